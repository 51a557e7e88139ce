"""Where embeddings live. The embedded default is SQLite (one file, no server)."""

from clipaware.index.sqlite import DEFAULT_DB_NAME, ImageIndex, IndexedFile, find_default_db

__all__ = ["DEFAULT_DB_NAME", "ImageIndex", "IndexedFile", "find_default_db"]
