"""Opening a store by its name (``--db`` / ``--store``): the one place that knows both implementations.

Kept apart from :mod:`clipaware.index.store` (the protocol and its row types) so that neither
implementation imports a module that imports it back.
"""

from __future__ import annotations

from pathlib import Path

from clipaware.index.sqlite import ImageIndex, find_default_db
from clipaware.index.store import StoreSpec, VectorStore


def store_exists(spec: StoreSpec) -> bool:
    """Whether there is something to open (cheap for SQLite; asks Milvus otherwise)."""
    if spec.is_sqlite:
        return Path(spec.target).is_file()
    from clipaware.index.milvus import MilvusStore

    return MilvusStore.exists(spec)


def _parsed(spec: str | Path | StoreSpec) -> StoreSpec:
    return spec if isinstance(spec, StoreSpec) else StoreSpec.parse(spec)


def open_store(spec: str | Path | StoreSpec | None, *, ann_threshold: int | None = None) -> VectorStore:
    """Open an existing store; without a name, the default SQLite index (``--db`` rules).

    ``ann_threshold``: rows from which the SQLite index searches through its ANN (Milvus has its own index).
    """
    if spec is None:
        return ImageIndex.open(find_default_db(), ann_threshold=ann_threshold)
    parsed = _parsed(spec)
    if parsed.is_sqlite:
        return ImageIndex.open(parsed.target, ann_threshold=ann_threshold)
    from clipaware.index.milvus import MilvusStore

    return MilvusStore.open(parsed)


def create_store(
    spec: str | Path | StoreSpec, model_name: str, dim: int, *, ann_threshold: int | None = None
) -> VectorStore:
    """Open a store for writing with ``model_name`` vectors of size ``dim``, creating it if needed."""
    parsed = _parsed(spec)
    if parsed.is_sqlite:
        return ImageIndex.create_or_open(parsed.target, model_name, dim, ann_threshold=ann_threshold)
    from clipaware.index.milvus import MilvusStore

    return MilvusStore.create_or_open(parsed, model_name, dim)
