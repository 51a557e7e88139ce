"""Approximate nearest neighbours derived from the index, and an in-memory exact engine.

SQLite stays the single source of truth; everything here is a *derived* copy that can be thrown away:

* :class:`AnnIndex` is a faiss index over the rows of one database, keyed by row id. Its kind is chosen by
  size: HNSW (graph over 8-bit scalar-quantised vectors, best latency/recall for up to a few hundred
  thousand vectors, cheap to extend) below :data:`HNSW_BELOW` rows, IVF-PQ above (64-byte codes, so a
  million 512-d vectors take ~70 MB instead of 1 GB, and it builds in minutes where an HNSW graph of a
  million takes far longer on two cores). It only proposes *candidates*: the store re-scores them exactly
  from its own float16 vectors, so a stale entry (an updated or deleted row) can cost recall but never
  a wrong score or a deleted file in the answer.
* It is saved beside the database (``<db>.ann``) with the generation number of the database it was
  built from and a checksum. A file that is missing, truncated, corrupt, from another database or
  another model is rebuilt, never trusted. A stale one (older generation) is extended with the rows
  written since, or rebuilt when too many of its entries went stale or the size calls for another kind.
* :class:`ExactIndex` holds float16 vectors in faiss (SIMD float16 decoding) split in one shard per
  core, because faiss parallelises over queries and a single query would otherwise use one core.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ANN_SUFFIX = ".ann"
EXACT_BELOW = 50_000  # exact search streams this many float16 rows from SQLite in ~0.1-0.2 s
HNSW_BELOW = 100_000  # above: IVF-PQ (measured on 2 cores: HNSW builds 2-3x slower and answers slower)
REBUILD_STALE_FRACTION = 0.2  # extend while under this share of entries is stale; rebuild above
# Candidates fetched per wanted result before exact re-scoring. HNSW over 8-bit codes ranks almost
# exactly; 64-byte PQ codes blur near-ties (many images about equally close to the query), so IVF-PQ
# proposes more and the exact float16 re-score picks the true top k among them.
CANDIDATES = {"hnsw": (10, 100), "ivfpq": (50, 500)}  # kind -> (per result, at least)
FORMAT = 1
_MAGIC = b"CLIPAWARE-ANN\x00"

Chunks = Iterable[tuple[np.ndarray, np.ndarray]]  # (row ids int64, vectors (n, dim) float16/32)


def kind_for(n: int) -> str:
    return "hnsw" if n < HNSW_BELOW else "ivfpq"


def candidates_for(kind: str, k: int) -> int:
    per, least = CANDIDATES[kind]
    return max(per * k, least)


def _faiss():  # imported lazily: `clipaware --help` and small indexes never pay for it
    import faiss

    return faiss


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Run one query on one OpenMP thread. faiss parallelises over queries, so a single query gains
    nothing from a thread team, and starting one on a busy machine costs ~10-20 ms (measured: HNSW query
    0.3 ms on one thread vs 18 ms with two, under load) — far more than the search itself."""
    faiss = _faiss()
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


@dataclass(frozen=True)
class AnnInfo:
    """What the ANN file holds and where it came from (for reports and ``--json``)."""

    kind: str
    entries: int
    generation: int
    action: str  # loaded | extended | rebuilt | built
    reason: str
    seconds: float

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "entries": self.entries,
            "generation": self.generation,
            "action": self.action,
            "reason": self.reason,
            "seconds": round(self.seconds, 3),
        }


class AnnIndex:
    """A faiss index over row ids of one database at one generation."""

    def __init__(self, index: object, kind: str, dim: int, generation: int, source: dict[str, str]) -> None:
        self.index = index
        self.kind = kind
        self.dim = dim
        self.generation = generation
        self.source = source  # {"uuid": db uuid, "model": model name}: which database it belongs to

    @property
    def entries(self) -> int:
        return int(self.index.ntotal)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------------------------- building
    @classmethod
    def build(
        cls,
        *,
        dim: int,
        count: int,
        chunks: Callable[[], Chunks],
        sample: Callable[[int], np.ndarray],
        generation: int,
        source: dict[str, str],
        kind: str | None = None,
    ) -> AnnIndex:
        """Build from ``chunks()`` (all rows, in pieces). IVF-PQ trains on ``sample(n)`` first."""
        faiss = _faiss()
        kind = kind or kind_for(count)
        if kind == "hnsw":
            hnsw = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, 16, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efConstruction = 40
            hnsw.train(np.ascontiguousarray(sample(min(count, 50_000)), dtype=np.float32))
            index = faiss.IndexIDMap2(hnsw)
        elif kind == "ivfpq":
            nlist = int(min(2048, max(64, 2 ** round(np.log2(max(count, 1) ** 0.5 * 2)))))
            m = next((m for m in (64, 32, 16, 8, 4, 2) if dim % m == 0 and dim // m >= 8), 1)  # >= 8 dims/code
            quantizer = faiss.IndexFlatIP(dim)
            index = faiss.IndexIVFPQ(quantizer, dim, nlist, m, 8, faiss.METRIC_INNER_PRODUCT)
            index.cp.niter = 12
            index.cp.max_points_per_centroid = 40
            train = np.ascontiguousarray(sample(min(count, nlist * 40)), dtype=np.float32)
            index.train(train)
            del train
        else:
            raise ValueError(f"unknown ANN kind {kind!r}")
        ann = cls(index, kind, dim, generation, source)
        ann.add(chunks())
        return ann

    def add(self, chunks: Chunks) -> None:
        """Append rows (an updated row is added again; the store's re-scoring ignores its old entry)."""
        for ids, vectors in chunks:
            if len(ids):
                self.index.add_with_ids(  # type: ignore[attr-defined]
                    np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)
                )

    # ------------------------------------------------------------------------------------ searching
    def search(self, query: np.ndarray, fetch: int, allowed: np.ndarray | None = None) -> np.ndarray:
        """Up to ``fetch`` candidate row ids, best first, only among ``allowed`` ids when given.

        Filtering happens *inside* the search (faiss ID selectors): the graph walk or the inverted lists
        skip rows that fail the filter, so a selective filter does not starve the result. The rarer the
        passing rows, the wider the search (HNSW ``efSearch`` and IVF ``nprobe`` grow with 1/share).
        """
        faiss = _faiss()
        q = np.ascontiguousarray(np.asarray(query, dtype=np.float32).reshape(1, -1))
        sel = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64)) if allowed is not None else None
        share = 1.0 if allowed is None else max(len(allowed) / max(self.entries, 1), 1e-6)
        fetch = max(1, min(fetch, self.entries))
        if self.kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=int(min(4096, max(64, fetch) / share)), sel=sel)
        else:
            nlist = self.index.nlist  # type: ignore[attr-defined]
            nprobe = max(16, nlist // 32) * min(8.0, share**-0.5)
            params = faiss.SearchParametersIVF(nprobe=int(min(nlist, nprobe)), sel=sel)
        with _one_thread():
            _, ids = self.index.search(q, fetch, params=params)  # type: ignore[attr-defined]
        ids = ids[0]
        ids = ids[ids >= 0]
        _, first = np.unique(ids, return_index=True)  # an updated row may be in twice: keep its best
        return ids[np.sort(first)]

    # ---------------------------------------------------------------------------------------- files
    def save(self, path: Path) -> bool:
        """Write atomically (temp file + rename): a crash mid-write leaves the old file or none.

        Returns False when the folder is not writable (searching someone else's index): the ANN then
        lives in memory for this process only, which is slower next time but never wrong.
        """
        payload = _faiss().serialize_index(self.index).tobytes()
        header = json.dumps(
            {
                "format": FORMAT,
                "kind": self.kind,
                "dim": self.dim,
                "generation": self.generation,
                "entries": self.entries,
                "source": self.source,
                "sha256": hashlib.sha256(payload).hexdigest(),
            }
        ).encode()
        try:
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # one per writer
        except OSError:
            return False
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(_MAGIC + len(header).to_bytes(4, "little") + header)
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except OSError:
            return False
        finally:
            tmp.unlink(missing_ok=True)
        return True

    @classmethod
    def load(cls, path: Path, source: dict[str, str], dim: int) -> tuple[AnnIndex | None, str]:
        """The saved index, or ``None`` and why it cannot be trusted (missing, corrupt, foreign)."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None, "no ANN file yet"
        except OSError as exc:
            return None, f"unreadable ANN file ({exc.strerror or exc})"
        if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + 4:
            return None, "not an ANN file (bad magic)"
        start = len(_MAGIC) + 4
        size = int.from_bytes(data[len(_MAGIC) : start], "little")
        try:
            header = json.loads(data[start : start + size])
        except (ValueError, UnicodeDecodeError):
            return None, "corrupt ANN header"
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            return None, "ANN file of an unknown format"
        if header.get("source") != source or header.get("dim") != dim:
            return None, "ANN file belongs to another database or model"
        payload = memoryview(data)[start + size :]
        if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
            return None, "ANN file checksum mismatch (truncated or corrupt)"
        try:
            index = _faiss().deserialize_index(np.frombuffer(payload, dtype=np.uint8))
        except RuntimeError as exc:
            return None, f"ANN payload unreadable ({str(exc).splitlines()[0][:80]})"
        ann = cls(index, str(header["kind"]), dim, int(header["generation"]), source)
        if ann.entries != header.get("entries") or ann.kind not in ("hnsw", "ivfpq"):
            return None, "ANN file contents disagree with its header"
        return ann, "loaded"


class ExactIndex:
    """Exact inner-product search over float16 vectors held in memory, one faiss shard per core.

    This is what a long-lived process (a service, the benchmark) keeps to answer exact queries at scale:
    half the memory of float32, SIMD float16 decoding in faiss, both cores on one query. The same bytes
    also serve re-ranking of ANN candidates (:meth:`vectors`, a zero-copy view of faiss' float16 codes),
    so holding vectors costs one copy, not two.
    """

    def __init__(self, dim: int, shards: int | None = None) -> None:
        faiss = _faiss()
        self.dim = dim
        count = max(1, shards or os.cpu_count() or 1)
        fp16, ip = faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        self._shards = [faiss.IndexScalarQuantizer(dim, fp16, ip) for _ in range(count)]
        self._ids: list[list[np.ndarray]] = [[] for _ in range(count)]  # row ids by position, per shard
        self._pool = ThreadPoolExecutor(count, initializer=lambda: faiss.omp_set_num_threads(1)) if count > 1 else None
        self._lookup: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def entries(self) -> int:
        return sum(int(s.ntotal) for s in self._shards)

    def add(self, chunks: Chunks) -> None:
        for ids, vectors in chunks:
            shard = min(range(len(self._shards)), key=lambda i: self._shards[i].ntotal)
            self._shards[shard].add(np.ascontiguousarray(vectors, dtype=np.float32))
            self._ids[shard].append(np.asarray(ids, dtype=np.int64))
        self._lookup = None

    def _index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sorted row ids, their shard, their position): from row ids to stored vectors."""
        if self._lookup is None:
            ids = [np.concatenate(parts) if parts else np.zeros(0, np.int64) for parts in self._ids]
            self._flat_ids = ids
            all_ids = np.concatenate(ids)
            shard = np.concatenate([np.full(len(p), i, np.int32) for i, p in enumerate(ids)])
            pos = np.concatenate([np.arange(len(p), dtype=np.int64) for p in ids])
            order = np.argsort(all_ids, kind="stable")
            self._lookup = (all_ids[order], shard[order], pos[order])
        return self._lookup

    def _codes(self, shard: int) -> np.ndarray:
        index = self._shards[shard]
        n = int(index.ntotal)
        raw = _faiss().rev_swig_ptr(index.codes.data(), n * self.dim * 2)
        return np.frombuffer(raw, dtype=np.uint8).view(np.float16).reshape(n, self.dim)

    def vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The held (row ids, float32 vectors) among ``ids`` (ids not held are left out)."""
        sorted_ids, shard, pos = self._index()
        ids = np.asarray(ids, dtype=np.int64)
        at = np.clip(np.searchsorted(sorted_ids, ids), 0, max(len(sorted_ids) - 1, 0))
        found = (sorted_ids[at] == ids) if len(sorted_ids) else np.zeros(len(ids), bool)
        ids, at = ids[found], at[found]
        out = np.empty((len(ids), self.dim), np.float32)
        for s in range(len(self._shards)):
            mine = shard[at] == s
            if mine.any():
                out[mine] = self._codes(s)[pos[at[mine]]]
        return ids, out

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Row ids and exact scores of the ``k`` best rows (among ``allowed`` ids when given)."""
        faiss = _faiss()
        sorted_ids, shard_of, pos_of = self._index()
        q = np.ascontiguousarray(np.asarray(query, dtype=np.float32).reshape(1, -1))
        selectors: list[object | None] = [None] * len(self._shards)
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=np.int64)
            at = np.clip(np.searchsorted(sorted_ids, allowed), 0, max(len(sorted_ids) - 1, 0))
            at = at[sorted_ids[at] == allowed] if len(sorted_ids) else at[:0]
            selectors = [faiss.IDSelectorBatch(pos_of[at[shard_of[at] == s]]) for s in range(len(self._shards))]

        def one(s: int) -> tuple[np.ndarray, np.ndarray]:
            kk = min(k, int(self._shards[s].ntotal))
            if kk == 0:
                return np.zeros(0, np.float32), np.zeros(0, np.int64)
            params = faiss.SearchParameters(sel=selectors[s]) if selectors[s] is not None else None
            scores, positions = self._shards[s].search(q, kk, params=params)
            keep = positions[0] >= 0
            return scores[0][keep], self._flat_ids[s][positions[0][keep]]

        shards = range(len(self._shards))
        if self._pool is not None:
            parts = list(self._pool.map(one, shards))
        else:
            with _one_thread():
                parts = [one(s) for s in shards]
        scores = np.concatenate([p[0] for p in parts])
        ids = np.concatenate([p[1] for p in parts])
        order = np.lexsort((ids, -scores))[:k]
        return [(int(ids[i]), float(scores[i])) for i in order]


def stream_top_k(chunks: Iterator[tuple[list[str], np.ndarray]], query: np.ndarray, k: int) -> list[tuple[str, float]]:
    """Exact top ``k`` over rows arriving in chunks, holding one chunk at a time (bounded memory)."""
    q = np.asarray(query, dtype=np.float32).reshape(-1)
    best_paths: list[str] = []
    best_scores = np.zeros(0, np.float32)
    for paths, vectors in chunks:
        if not paths:
            continue
        scores = np.asarray(vectors, dtype=np.float32) @ q
        all_scores = np.concatenate([best_scores, scores])
        all_paths = best_paths + list(paths)
        kk = min(k, all_scores.shape[0])
        picked = np.argpartition(-all_scores, kk - 1)[:kk]
        picked = picked[np.lexsort((picked, -all_scores[picked]))]
        best_paths = [all_paths[i] for i in picked]
        best_scores = all_scores[picked]
    return list(zip(best_paths, (float(s) for s in best_scores), strict=True))
