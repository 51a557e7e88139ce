"""The embedded index: one SQLite file holding each image's path, file facts and embedding.

SQLite is the single source of truth: it survives crashes (transactions), needs no server, and its
schema is versioned with explicit, ordered migrations (``PRAGMA user_version``), as in simonw/llm. The
model that produced the vectors is recorded, because vectors from two models are not comparable: a
query with another model is refused rather than answered with noise.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clipaware.errors import IndexUnavailableError, ModelMismatchError

DEFAULT_DB_NAME = ".clipaware.db"
DB_ENV = "CLIPAWARE_DB"

# Each entry upgrades the schema by one version; never edit a released entry, append a new one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE images (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        width INTEGER,
        height INTEGER,
        embedding BLOB NOT NULL,
        indexed_at REAL NOT NULL
    );
    CREATE INDEX images_sha256 ON images (sha256);
    """,
    # v2: remember files that could not be indexed, so an unchanged bad file is reported again from
    # here instead of being re-read (and a re-index of an unchanged folder never needs the model).
    """
    CREATE TABLE skipped (
        path TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        reason TEXT NOT NULL
    );
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


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


def find_default_db(start: Path | None = None) -> Path | None:
    """``CLIPAWARE_DB``, else the nearest ``.clipaware.db`` in the working folder or its parents."""
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / DEFAULT_DB_NAME
        if candidate.is_file():
            return candidate
    return None


class ImageIndex:
    """An open index database. Use :meth:`open` (existing) or :meth:`create_or_open` (for indexing)."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn

    # ------------------------------------------------------------ lifecycle
    @classmethod
    def open(cls, path: str | Path | None) -> ImageIndex:
        """Open an existing index; a missing or foreign file is a clear error, never an empty result."""
        if path is None:
            path = find_default_db()
            if path is None:
                raise IndexUnavailableError(
                    f"no index found: no {DEFAULT_DB_NAME} in this folder or its parents; run "
                    f"`clipaware index FOLDER` first, or pass --db FILE"
                )
        path = Path(path)
        if not path.is_file():
            raise IndexUnavailableError(f"no index at {path}; run `clipaware index FOLDER --db {path}` first")
        index = cls(path, cls._connect(path))
        index._migrate(create=False)
        return index

    @classmethod
    def create_or_open(cls, path: str | Path, model_name: str, dim: int) -> ImageIndex:
        """Open the index at ``path`` for writing with ``model_name``, creating it if needed."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        index = cls(path, cls._connect(path))
        index._migrate(create=True)
        with index.conn:
            index.conn.execute("INSERT OR IGNORE INTO meta VALUES ('model', ?)", (model_name,))
            index.conn.execute("INSERT OR IGNORE INTO meta VALUES ('dim', ?)", (str(dim),))
            index.conn.execute("INSERT OR IGNORE INTO meta VALUES ('created_at', ?)", (str(time.time()),))
        index.require_model(model_name)
        return index

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(path, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")  # readers don't block the writer
            conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as exc:
            raise IndexUnavailableError(f"{path} is not a clipaware index ({exc})") from exc
        return conn

    def _migrate(self, create: bool) -> None:
        try:
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            raise IndexUnavailableError(f"{self.path} is not a clipaware index ({exc})") from exc
        if version > SCHEMA_VERSION:
            raise IndexUnavailableError(
                f"{self.path} was written by a newer clipaware (schema {version} > {SCHEMA_VERSION}); "
                f"upgrade clipaware to read it"
            )
        if version == 0 and tables and "images" not in tables:
            raise IndexUnavailableError(f"{self.path} is an SQLite file but not a clipaware index")
        if version == 0 and not create:
            raise IndexUnavailableError(f"{self.path} is empty, not a clipaware index")
        for number in range(version, SCHEMA_VERSION):
            with self.conn:
                self.conn.executescript(f"BEGIN; {MIGRATIONS[number]}; PRAGMA user_version = {number + 1}; COMMIT;")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ImageIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- meta
    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    @property
    def model_name(self) -> str:
        return self.meta("model") or ""

    @property
    def dim(self) -> int:
        return int(self.meta("dim") or 0)

    def require_model(self, model_name: str | None) -> None:
        """Refuse a model other than the one the vectors came from (their spaces are unrelated)."""
        if model_name and model_name != self.model_name:
            raise ModelMismatchError(
                f"{self.path} was built with model '{self.model_name}', not '{model_name}'; query it with "
                f"--model {self.model_name} (or leave --model out), or index into another --db"
            )

    # ---------------------------------------------------------------- reads
    def __len__(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM images").fetchone()[0])

    def files(self) -> dict[str, IndexedFile]:
        rows = self.conn.execute("SELECT path, size, mtime_ns, sha256 FROM images")
        return {r[0]: IndexedFile(*r) for r in rows}

    def same_content(self, sha256: str) -> tuple[np.ndarray, int | None, int | None] | None:
        """Vector and pixel size of any indexed file with this content hash (a moved or copied file)."""
        row = self.conn.execute(
            "SELECT embedding, width, height FROM images WHERE sha256 = ? LIMIT 1", (sha256,)
        ).fetchone()
        return (self._vector(row[0]), row[1], row[2]) if row else None

    def skipped_files(self) -> dict[str, tuple[int, int, str]]:
        """Files an earlier run could not index: path → (size, mtime_ns, reason)."""
        return {r[0]: (r[1], r[2], r[3]) for r in self.conn.execute("SELECT path, size, mtime_ns, reason FROM skipped")}

    def embedding_for_path(self, path: str) -> np.ndarray | None:
        row = self.conn.execute("SELECT embedding FROM images WHERE path = ?", (path,)).fetchone()
        return self._vector(row[0]) if row else None

    def matrix(self) -> tuple[list[str], np.ndarray]:
        """All paths and their vectors as one ``(n, dim)`` float32 matrix, for exact search."""
        paths: list[str] = []
        blobs: list[bytes] = []
        for path, blob in self.conn.execute("SELECT path, embedding FROM images ORDER BY id"):
            paths.append(path)
            blobs.append(blob)
        if not blobs:
            return [], np.zeros((0, self.dim), np.float32)
        return paths, np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1)

    def _vector(self, blob: bytes) -> np.ndarray:
        return np.frombuffer(blob, dtype=np.float32).copy()

    # --------------------------------------------------------------- writes
    def upsert(self, rows: Iterable[NewEmbedding]) -> None:
        """Insert or replace rows in one transaction (a crash leaves either all or none of them)."""
        now = time.time()
        with self.conn:
            self.conn.executemany(
                """INSERT INTO images (path, size, mtime_ns, sha256, width, height, embedding, indexed_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(path) DO UPDATE SET size=excluded.size, mtime_ns=excluded.mtime_ns,
                     sha256=excluded.sha256, width=excluded.width, height=excluded.height,
                     embedding=excluded.embedding, indexed_at=excluded.indexed_at""",
                [(r.path, r.size, r.mtime_ns, r.sha256, r.width, r.height, self._blob(r.embedding), now) for r in rows],
            )

    def record_skips(self, rows: Iterable[tuple[str, int, int, str]]) -> None:
        """Remember (path, size, mtime_ns, reason) of files that failed, replacing older reasons."""
        with self.conn:
            self.conn.executemany("INSERT OR REPLACE INTO skipped VALUES (?, ?, ?, ?)", list(rows))

    def forget_skips(self, paths: Iterable[str]) -> None:
        with self.conn:
            self.conn.executemany("DELETE FROM skipped WHERE path = ?", [(p,) for p in paths])

    def touch(self, path: str, size: int, mtime_ns: int) -> None:
        """Record new file facts for a file whose content (hash) did not change."""
        with self.conn:
            self.conn.execute("UPDATE images SET size = ?, mtime_ns = ? WHERE path = ?", (size, mtime_ns, path))

    def remove(self, paths: Iterable[str]) -> int:
        with self.conn:
            cur = self.conn.executemany("DELETE FROM images WHERE path = ?", [(p,) for p in paths])
        return cur.rowcount if cur.rowcount is not None else 0

    def _blob(self, vector: np.ndarray) -> bytes:
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        if vector.shape[0] != self.dim:
            raise ValueError(f"vector of size {vector.shape[0]} in an index of size {self.dim}")
        return vector.tobytes()
