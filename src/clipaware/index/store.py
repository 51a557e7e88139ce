"""The store protocol: what indexing and search need from wherever embeddings live.

Two implementations: :class:`~clipaware.index.sqlite.ImageIndex` (one SQLite file, the default, with a
derived faiss ANN) and :class:`~clipaware.index.milvus.MilvusStore` (a Milvus server or cluster for many
machines, or Milvus Lite in a file). Tasks only talk to this protocol, so the same indexing and search
code, and the same test-suite, run against both. The protocol owns its row types (:class:`IndexedFile`,
:class:`NewEmbedding`) and imports neither implementation; :mod:`clipaware.index.stores` opens one by name.

A store is named by one string (``--store`` / ``--db``):

* ``FILE`` or ``sqlite:FILE``: the embedded SQLite index;
* ``milvus://HOST:PORT[/COLLECTION]``: a Milvus server (collection ``clipaware`` by default);
* ``milvus-lite:FILE[#COLLECTION]``: Milvus Lite, embedded in a local file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from clipaware.errors import UsageError
from clipaware.index.filters import Filters

DEFAULT_COLLECTION = "clipaware"


@dataclass(frozen=True)
class IndexedFile:
    """What the index knows about a file, to decide whether it changed since it was embedded."""

    path: str
    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True)
class NewEmbedding:
    """One row to write: the file facts plus its vector."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    width: int | None
    height: int | None
    embedding: np.ndarray
    taken_at: str | None = None  # EXIF DateTimeOriginal, ISO text


@runtime_checkable
class VectorStore(Protocol):
    """Image rows (path, file facts, pixel size, date taken, unit vector) plus the files that failed."""

    @property
    def location(self) -> str: ...  # how to name it to a person (a path or a URI)

    @property
    def model_name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def require_model(self, model_name: str | None) -> None: ...

    def __len__(self) -> int: ...

    def files(self) -> dict[str, IndexedFile]: ...

    def file_facts(self, path: str) -> IndexedFile | None: ...

    def skipped_files(self) -> dict[str, tuple[int, int, str]]: ...

    def same_content(self, sha256: str) -> tuple[np.ndarray, int | None, int | None] | None: ...

    def embedding_for_path(self, path: str) -> np.ndarray | None: ...

    def matrix(self) -> tuple[list[str], np.ndarray]: ...

    def search(
        self, query: np.ndarray, k: int, filters: Filters | None = None, *, exact: bool | None = None
    ) -> list[tuple[str, float]]: ...

    def upsert(self, rows: Iterable[NewEmbedding]) -> None: ...

    def touch(self, path: str, size: int, mtime_ns: int) -> None: ...

    def remove(self, paths: Iterable[str]) -> int: ...

    def record_skips(self, rows: Iterable[tuple[str, int, int, str]]) -> None: ...

    def forget_skips(self, paths: Iterable[str]) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class StoreSpec:
    """A parsed store name: ``kind`` is ``sqlite``, ``milvus`` or ``milvus-lite``."""

    kind: str
    target: str  # SQLite/Lite file path, or the Milvus server URI
    collection: str = DEFAULT_COLLECTION

    @classmethod
    def parse(cls, spec: str | Path) -> StoreSpec:
        text = str(spec)
        if text.startswith("milvus://"):
            rest = text[len("milvus://") :]
            host, _, collection = rest.partition("/")
            if not host:
                raise UsageError("--store milvus://HOST:PORT[/COLLECTION] needs a host")
            return cls("milvus", f"http://{host}", collection.strip("/") or DEFAULT_COLLECTION)
        if text.startswith("milvus-lite:"):
            file, _, collection = text[len("milvus-lite:") :].partition("#")
            if not file:
                raise UsageError("--store milvus-lite:FILE[#COLLECTION] needs a file")
            return cls("milvus-lite", str(Path(file).expanduser().resolve()), collection or DEFAULT_COLLECTION)
        if text.startswith("sqlite:"):
            text = text[len("sqlite:") :]
        return cls("sqlite", str(Path(text).expanduser().resolve()))

    @property
    def is_sqlite(self) -> bool:
        return self.kind == "sqlite"
