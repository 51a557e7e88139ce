"""The embedded index: one SQLite file holding each image's path, file facts and embedding.

SQLite is the single source of truth: it survives crashes (transactions), needs no server, and its
schema is versioned with explicit, ordered migrations (``PRAGMA user_version``), as in simonw/llm. The
model that produced the vectors is recorded, because vectors from two models are not comparable: a
query with another model is refused rather than answered with noise.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from clipaware.errors import IndexUnavailableError, ModelMismatchError
from clipaware.index.ann import (
    ANN_SUFFIX,
    EXACT_BELOW,
    REBUILD_STALE_FRACTION,
    AnnIndex,
    AnnInfo,
    ExactIndex,
    candidates_for,
    stream_top_k,
)
from clipaware.index.ann import kind_for as ann_kind_for
from clipaware.index.filters import Filters
from clipaware.index.store import IndexedFile, NewEmbedding

DEFAULT_DB_NAME = ".clipaware.db"


def _v3_float16_generations(conn: sqlite3.Connection) -> None:
    """v3: float16 vectors (half the disk and memory; cosine scores move by < 1e-3), the EXIF date taken
    for filters, and generation numbers: ``meta.generation`` grows with every write that changes vectors
    and each row records the generation that wrote it, so a derived ANN file knows exactly what it lacks.
    """
    conn.execute("ALTER TABLE images ADD COLUMN taken_at TEXT")
    conn.execute("ALTER TABLE images ADD COLUMN gen INTEGER NOT NULL DEFAULT 0")
    conn.execute("CREATE INDEX images_gen ON images (gen)")
    for column in ("taken_at", "mtime_ns", "width", "height"):  # filters select through these, not by scanning
        conn.execute(f"CREATE INDEX images_{column} ON images ({column})")
    last = 0
    while True:  # convert in id order, a bounded chunk at a time
        rows = conn.execute("SELECT id, embedding FROM images WHERE id > ? ORDER BY id LIMIT 4096", (last,)).fetchall()
        if not rows:
            break
        conn.executemany(
            "UPDATE images SET embedding = ? WHERE id = ?",
            [(np.frombuffer(blob, dtype=np.float32).astype(np.float16).tobytes(), rid) for rid, blob in rows],
        )
        last = rows[-1][0]
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('generation', '0')")
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('vector_dtype', 'float16')")
    conn.execute("INSERT OR IGNORE INTO meta VALUES ('uuid', ?)", (uuid.uuid4().hex,))


# Each entry upgrades the schema by one version; never edit a released entry, append a new one. An entry
# is SQL, or a function of the connection for what SQL alone cannot do (converting vector blobs).
MIGRATIONS: tuple[str | Callable[[sqlite3.Connection], None], ...] = (
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
    _v3_float16_generations,
)
VECTOR_DTYPE = np.float16
SCHEMA_VERSION = len(MIGRATIONS)


def unit(vectors: np.ndarray) -> np.ndarray:
    """Float32 rows scaled back to unit length: float16 rounding leaves norms off by ~1e-4, and an image
    compared with itself should score 1.0, not 0.9999."""
    out = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(out, axis=-1, keepdims=True)
    return out / np.where(norms > 0, norms, 1)


def decode_vectors(blob: bytes, n: int) -> np.ndarray:
    """``n`` stored float16 vectors (one joined blob) as unit float32 rows."""
    return unit(np.frombuffer(blob, dtype=VECTOR_DTYPE).reshape(n, -1))


def find_default_db(start: Path | None = None) -> Path | None:
    """The nearest ``.clipaware.db`` in the working folder or its parents (``--db`` / ``CLIPAWARE_DB`` name
    another, at the command line)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / DEFAULT_DB_NAME
        if candidate.is_file():
            return candidate
    return None


class ImageIndex:
    """An open index database. Use :meth:`open` (existing) or :meth:`create_or_open` (for indexing)."""

    def __init__(self, path: Path, conn: sqlite3.Connection, ann_threshold: int | None = None) -> None:
        self.path = path
        self.conn = conn
        # rows from which searches use the ANN (the CLI's --ann-threshold / CLIPAWARE_ANN_THRESHOLD, for tests
        # and benchmarks); below it every search is an exact scan
        self.ann_threshold = ann_threshold or EXACT_BELOW
        self._ann: AnnIndex | None = None
        self._exact: tuple[int, ExactIndex] | None = None
        self._count: tuple[int, int] | None = None

    # ------------------------------------------------------------ lifecycle
    @classmethod
    def open(cls, path: str | Path | None, *, ann_threshold: int | None = None) -> ImageIndex:
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
        index = cls(path, cls._connect(path), ann_threshold)
        index._migrate(create=False)
        return index

    @classmethod
    def create_or_open(
        cls, path: str | Path, model_name: str, dim: int, *, ann_threshold: int | None = None
    ) -> ImageIndex:
        """Open the index at ``path`` for writing with ``model_name``, creating it if needed."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        index = cls(path, cls._connect(path), ann_threshold)
        index._migrate(create=True)
        with index.conn:
            index.conn.execute("INSERT OR IGNORE INTO meta VALUES ('model', ?)", (model_name,))
            index.conn.execute("INSERT OR IGNORE INTO meta VALUES ('dim', ?)", (str(dim),))
            index.conn.execute("INSERT OR IGNORE INTO meta VALUES ('created_at', ?)", (str(time.time()),))
        index.require_model(model_name)
        return index

    @staticmethod
    def is_blank(path: str | Path) -> bool:
        """True for a file that a killed first run left unfinished (no schema yet, or no model recorded).

        Creating an index is two commits (schema, then meta); a SIGKILL between them must not leave a
        file that every later run refuses, so indexing treats a blank file as absent and completes it.
        """
        path = Path(path)
        if not path.is_file() or path.stat().st_size == 0:
            return True
        try:
            conn = sqlite3.connect(path, timeout=30)
            try:
                if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                    tables = conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
                    return tables == 0
                return conn.execute("SELECT 1 FROM meta WHERE key = 'model'").fetchone() is None
            finally:
                conn.close()
        except sqlite3.DatabaseError:
            return False  # a foreign or corrupt file: let open() say so

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
            self.conn.execute("BEGIN IMMEDIATE")  # one writer migrates; the others wait, then see it done
            try:
                if self.conn.execute("PRAGMA user_version").fetchone()[0] == number:
                    step = MIGRATIONS[number]
                    if isinstance(step, str):
                        for statement in step.split(";"):
                            if statement.strip():
                                self.conn.execute(statement)
                    else:
                        step(self.conn)
                    self.conn.execute(f"PRAGMA user_version = {number + 1}")
            except BaseException:
                self.conn.rollback()
                raise
            self.conn.commit()

    @property
    def location(self) -> str:
        return str(self.path)

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
    @property
    def generation(self) -> int:
        """Grows with every committed write that changes vectors (see migration v3)."""
        return int(self.meta("generation") or 0)

    @property
    def uuid(self) -> str:
        return self.meta("uuid") or ""

    def __len__(self) -> int:
        """Row count, remembered per generation: ``COUNT(*)`` walks a whole index (~20 ms at 1M rows),
        far more than an ANN query."""
        generation = self.generation
        if self._count is None or self._count[0] != generation:
            count = int(self.conn.execute("SELECT COUNT(*) FROM images").fetchone()[0])
            self._count = (generation, count)
            return count
        return self._count[1]

    def count(self, filters: Filters | None = None) -> int:
        """How many rows pass ``filters`` (all rows without)."""
        where, params = (filters or Filters()).sql()
        return int(self.conn.execute(f"SELECT COUNT(*) FROM images WHERE {where}", params).fetchone()[0])

    def files(self) -> dict[str, IndexedFile]:
        rows = self.conn.execute("SELECT path, size, mtime_ns, sha256 FROM images")
        return {r[0]: IndexedFile(*r) for r in rows}

    def file_facts(self, path: str) -> IndexedFile | None:
        row = self.conn.execute("SELECT path, size, mtime_ns, sha256 FROM images WHERE path = ?", (path,)).fetchone()
        return IndexedFile(*row) if row else None

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

    def taken_at_for_path(self, path: str) -> str | None:
        row = self.conn.execute("SELECT taken_at FROM images WHERE path = ?", (path,)).fetchone()
        return row[0] if row else None

    def matrix(self) -> tuple[list[str], np.ndarray]:
        """All paths and their vectors as one ``(n, dim)`` float32 matrix (for small-index tasks)."""
        paths: list[str] = []
        blobs: list[bytes] = []
        for path, blob in self.conn.execute("SELECT path, embedding FROM images ORDER BY id"):
            paths.append(path)
            blobs.append(blob)
        if not blobs:
            return [], np.zeros((0, self.dim), np.float32)
        return paths, decode_vectors(b"".join(blobs), len(blobs))

    def chunks(
        self, filters: Filters | None = None, *, after_generation: int | None = None, size: int = 32_768
    ) -> Iterator[tuple[np.ndarray, list[str], np.ndarray]]:
        """(row ids, paths, float16 vectors) of the rows passing ``filters``, in id order, a chunk at a time.

        Paged by id (``WHERE id > last``) rather than one long cursor, so memory stays one chunk.
        """
        where, params = (filters or Filters()).sql()
        if after_generation is not None:
            where += " AND gen > ?"
            params = [*params, after_generation]
        last = -1
        while True:
            rows = self.conn.execute(
                f"SELECT id, path, embedding FROM images WHERE id > ? AND {where} ORDER BY id LIMIT ?",
                [last, *params, size],
            ).fetchall()
            if not rows:
                return
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            vectors = np.frombuffer(b"".join(r[2] for r in rows), dtype=VECTOR_DTYPE).reshape(len(rows), -1)
            yield ids, [r[1] for r in rows], vectors
            last = int(ids[-1])

    def ids(self, filters: Filters | None = None) -> np.ndarray:
        where, params = (filters or Filters()).sql()
        rows = self.conn.execute(f"SELECT id FROM images WHERE {where}", params).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def rows_by_id(self, ids: Iterable[int], filters: Filters | None = None) -> tuple[list[str], np.ndarray]:
        """Paths and float32 vectors of the given row ids that still exist and pass ``filters``."""
        where, params = (filters or Filters()).sql()
        wanted = [int(i) for i in ids]
        paths: list[str] = []
        blobs: list[bytes] = []
        for start in range(0, len(wanted), 900):  # stay under SQLite's bound-parameter limit
            part = wanted[start : start + 900]
            marks = ",".join("?" * len(part))
            for path, blob in self.conn.execute(
                f"SELECT path, embedding FROM images WHERE id IN ({marks}) AND {where}", [*part, *params]
            ):
                paths.append(path)
                blobs.append(blob)
        if not blobs:
            return [], np.zeros((0, self.dim), np.float32)
        return paths, decode_vectors(b"".join(blobs), len(blobs))

    def sample(self, n: int) -> np.ndarray:
        """About ``n`` rows spread evenly over the table (for training quantisers), as float32."""
        total = len(self)
        step = max(1, total // max(n, 1))
        rows = self.conn.execute("SELECT embedding FROM images WHERE id % ? = 0 LIMIT ?", (step, n)).fetchall()
        if len(rows) < min(n, total) // 2:  # ids with gaps: fall back to the first rows
            rows = self.conn.execute("SELECT embedding FROM images LIMIT ?", (n,)).fetchall()
        blob = b"".join(r[0] for r in rows)
        return np.frombuffer(blob, dtype=VECTOR_DTYPE).reshape(len(rows), -1).astype(np.float32)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """One read transaction: every read inside sees the same committed state (WAL snapshot)."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.rollback()

    def _vector(self, blob: bytes) -> np.ndarray:
        return decode_vectors(blob, 1)[0]

    # --------------------------------------------------------------------------------------- search
    @property
    def ann_path(self) -> Path:
        return self.path.with_name(self.path.name + ANN_SUFFIX)

    def ann(self) -> tuple[AnnIndex, AnnInfo]:
        """The ANN index for this database as it is now: loaded, extended, or (re)built and saved.

        A loaded file is checked against this database (uuid, model, dimension, checksum); a stale one is
        extended with the rows written after its generation unless more than
        :data:`REBUILD_STALE_FRACTION` of its entries went stale (updated or deleted rows) or the size now
        calls for the other kind, in which case it is rebuilt. Runs inside one read snapshot so a
        concurrent writer cannot slip rows between the generation and the rows read.
        """
        start = time.perf_counter()
        source = {"uuid": self.uuid, "model": self.model_name}
        with self.snapshot():
            generation, total = self.generation, len(self)
            cached = self._ann
            if cached is None or cached.generation > generation:
                cached, reason = AnnIndex.load(self.ann_path, source, self.dim)
            else:
                reason = "loaded"
            action = "loaded"
            if cached is not None and cached.generation > generation:
                cached, reason = None, "ANN file is newer than the database (restored from a backup?)"
            if cached is not None and cached.generation < generation:
                live = int(
                    self.conn.execute("SELECT COUNT(*) FROM images WHERE gen <= ?", (cached.generation,)).fetchone()[0]
                )
                stale = cached.entries - live
                if cached.kind != ann_kind_for(total):
                    cached, reason = None, f"{total} rows call for {ann_kind_for(total)}"
                elif stale > REBUILD_STALE_FRACTION * max(cached.entries, 1):
                    cached, reason = None, f"{stale} of {cached.entries} entries stale"
                else:
                    cached.add((i, v) for i, _, v in self.chunks(after_generation=cached.generation))
                    cached.generation, action, reason = generation, "extended", "new rows added"
                    cached.save(self.ann_path)
            if cached is None:
                action = "rebuilt" if self.ann_path.exists() else "built"
                cached = AnnIndex.build(
                    dim=self.dim,
                    count=total,
                    chunks=lambda: ((i, v) for i, _, v in self.chunks()),
                    sample=self.sample,
                    generation=generation,
                    source=source,
                )
                cached.save(self.ann_path)
        self._ann = cached
        info = AnnInfo(cached.kind, cached.entries, cached.generation, action, reason, time.perf_counter() - start)
        return cached, info

    def hold_vectors(self) -> ExactIndex:
        """Keep every vector in memory (float16, faiss) so exact searches skip reading the database.

        For long-lived processes (a service, the benchmark); a one-shot search streams instead.
        """
        with self.snapshot():
            exact = ExactIndex(self.dim)
            exact.add((i, v) for i, _, v in self.chunks())
            self._exact = (self.generation, exact)
        return exact

    def search(
        self, query: np.ndarray, k: int, filters: Filters | None = None, *, exact: bool | None = None
    ) -> list[tuple[str, float]]:
        """Top ``k`` (path, cosine) for a unit ``query`` among rows passing ``filters``, best first.

        Exact when asked, when the index is below :attr:`ann_threshold` rows, or when the filter leaves
        that few or fewer than the candidates the ANN would fetch (a pre-filtered exact scan then beats
        any approximation). Otherwise the ANN proposes
        candidates, restricted to the filter inside the search, and they are re-scored exactly from the
        stored vectors; if re-scoring leaves fewer than ``k`` (stale entries), it fetches four times more,
        up to the whole index.
        """
        filters = filters or Filters()
        threshold = self.ann_threshold
        total = len(self)
        matching = total if filters.empty else self.count(filters)
        if matching == 0 or k < 1:
            return []
        fetch = candidates_for(ann_kind_for(total), k)
        if exact or total < threshold or matching < threshold or fetch >= matching:
            return self._exact_search(query, k, filters)  # a scan of this few is cheaper than candidates
        ann, _ = self.ann()
        allowed = None if filters.empty else self.ids(filters)
        held = self._exact[1] if self._exact is not None and self._exact[0] == self.generation else None
        fetch = candidates_for(ann.kind, k)
        while True:
            candidates = ann.search(query, fetch, allowed)
            if held is not None:  # re-score from memory; same generation, so no stale rows to drop
                ids, vectors = held.vectors(candidates)
                scores = vectors @ np.asarray(query, dtype=np.float32).reshape(-1)
                best = np.lexsort((ids, -scores))[:k]
                paths = self._paths(ids[best])
                hits = [(paths[int(i)], float(s)) for i, s in zip(ids[best], scores[best], strict=True)]
            else:
                paths, vectors = self.rows_by_id(candidates, filters)  # drops deleted rows, re-checks filters
                hits = stream_top_k(iter([(paths, vectors)]), query, k)
            if len(hits) >= min(k, matching) or fetch >= ann.entries:
                return hits
            fetch *= 4

    def _paths(self, ids: Iterable[int]) -> dict[int, str]:
        ids = [int(i) for i in ids]
        marks = ",".join("?" * len(ids))
        return dict(self.conn.execute(f"SELECT id, path FROM images WHERE id IN ({marks})", ids).fetchall())

    def _exact_search(self, query: np.ndarray, k: int, filters: Filters) -> list[tuple[str, float]]:
        held = self._exact
        if held is not None and held[0] == self.generation:
            allowed = None if filters.empty else self.ids(filters)
            scored = held[1].search(query, k, allowed)
            paths = self._paths(i for i, _ in scored)
            return [(paths[i], s) for i, s in scored if i in paths]
        with self.snapshot():
            return stream_top_k(((p, unit(v)) for _, p, v in self.chunks(filters)), query, k)

    # --------------------------------------------------------------- writes
    def _bump(self) -> int:
        """Next generation, inside the caller's transaction (so it commits or rolls back with the rows)."""
        self.conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
        return self.generation

    def upsert(self, rows: Iterable[NewEmbedding]) -> None:
        """Insert or replace rows in one transaction (a crash leaves either all or none of them)."""
        now = time.time()
        rows = list(rows)
        if not rows:
            return
        with self.conn:
            gen = self._bump()
            self.conn.executemany(
                """INSERT INTO images
                     (path, size, mtime_ns, sha256, width, height, embedding, indexed_at, taken_at, gen)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(path) DO UPDATE SET size=excluded.size, mtime_ns=excluded.mtime_ns,
                     sha256=excluded.sha256, width=excluded.width, height=excluded.height,
                     embedding=excluded.embedding, indexed_at=excluded.indexed_at, taken_at=excluded.taken_at,
                     gen=excluded.gen""",
                [self._row(r, now, gen) for r in rows],
            )

    def _row(self, r: NewEmbedding, now: float, gen: int) -> tuple[object, ...]:
        return (r.path, r.size, r.mtime_ns, r.sha256, r.width, r.height, self._blob(r.embedding), now, r.taken_at, gen)

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
        paths = list(paths)
        if not paths:
            return 0
        with self.conn:
            self._bump()
            cur = self.conn.executemany("DELETE FROM images WHERE path = ?", [(p,) for p in paths])
        return cur.rowcount if cur.rowcount is not None else 0

    def _blob(self, vector: np.ndarray) -> bytes:
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        if vector.shape[0] != self.dim:
            raise ValueError(f"vector of size {vector.shape[0]} in an index of size {self.dim}")
        return vector.astype(VECTOR_DTYPE).tobytes()
