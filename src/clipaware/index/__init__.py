"""Where embeddings live: the embedded default is SQLite (one file, no server, a derived faiss ANN);
Milvus for many machines. Both behind one protocol (:class:`VectorStore`)."""

from clipaware.index.filters import Filters
from clipaware.index.sqlite import DEFAULT_DB_NAME, ImageIndex, IndexedFile, find_default_db
from clipaware.index.store import StoreSpec, VectorStore, create_store, open_store

__all__ = [
    "DEFAULT_DB_NAME",
    "Filters",
    "ImageIndex",
    "IndexedFile",
    "StoreSpec",
    "VectorStore",
    "create_store",
    "find_default_db",
    "open_store",
]
