"""Where embeddings live: the embedded default is SQLite (one file, no server, a derived faiss ANN);
Milvus for many machines. Both behind one protocol (:class:`VectorStore`)."""

from clipaware.index.filters import Filters
from clipaware.index.sqlite import DEFAULT_DB_NAME, ImageIndex, find_default_db
from clipaware.index.store import IndexedFile, NewEmbedding, StoreSpec, VectorStore
from clipaware.index.stores import create_store, open_store, store_exists

__all__ = [
    "DEFAULT_DB_NAME",
    "Filters",
    "ImageIndex",
    "IndexedFile",
    "NewEmbedding",
    "StoreSpec",
    "VectorStore",
    "create_store",
    "find_default_db",
    "open_store",
    "store_exists",
]
