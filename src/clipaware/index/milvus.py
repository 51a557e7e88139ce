"""Milvus as a store: the same protocol as the SQLite index, for libraries that outgrow one machine.

Milvus (a server or cluster, ``milvus://host:19530``) or Milvus Lite (the same engine embedded in a
file, ``milvus-lite:FILE``) keeps the rows and does the vector search and the filtering itself, so many
machines can index into and search one collection. Three collections per store name:

* ``NAME``: one entity per image, primary key the path (so an upsert replaces a re-indexed file), the
  file facts, pixel size (``-1`` unknown), EXIF date taken (``""`` unknown) and a float32 vector (Milvus
  Lite has no float16 vectors) under an inner-product index;
* ``NAME_meta``: key/value pairs (model, dimension), because collection descriptions do not survive in
  Milvus Lite;
* ``NAME_skipped``: the files that could not be indexed, with why.

Milvus requires a vector field in every collection, so the two side collections carry a 2-d dummy one.
Writes use ``Strong`` consistency: a search right after an index run must see what it wrote.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from clipaware.errors import IndexUnavailableError, ModelMismatchError, UsageError
from clipaware.index.ann import stream_top_k
from clipaware.index.filters import Filters
from clipaware.index.store import IndexedFile, NewEmbedding, StoreSpec

MAX_LIMIT = 16_384  # Milvus' largest top-k and query page
_DUMMY = [0.0, 0.0]
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,200}$")


def _client(spec: StoreSpec) -> Any:
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:  # an optional extra: the embedded SQLite store needs none of it
        raise IndexUnavailableError(
            "Milvus stores need the milvus extra: pip install 'clipaware[milvus]' (pymilvus, and milvus-lite for "
            "milvus-lite:FILE stores)"
        ) from exc
    if not _NAME.match(spec.collection):
        raise UsageError(f"bad Milvus collection name {spec.collection!r}: letters, digits and _ only")
    try:
        return MilvusClient(spec.target)
    except Exception as exc:
        raise IndexUnavailableError(f"cannot reach Milvus at {spec.target}: {str(exc).splitlines()[0]}") from exc


def _quote(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Milvus string literal


class MilvusStore:
    """An open Milvus collection. Use :meth:`open` (existing) or :meth:`create_or_open` (for indexing)."""

    def __init__(self, spec: StoreSpec, client: Any) -> None:
        self.spec = spec
        self.client = client
        self.name = spec.collection
        self._meta = f"{self.name}_meta"
        self._skipped = f"{self.name}_skipped"

    # ------------------------------------------------------------ lifecycle
    @classmethod
    def exists(cls, spec: StoreSpec) -> bool:
        client = _client(spec)
        try:
            return bool(client.has_collection(spec.collection))
        finally:
            client.close()

    @classmethod
    def open(cls, spec: StoreSpec) -> MilvusStore:
        client = _client(spec)
        if not client.has_collection(spec.collection) or not client.has_collection(f"{spec.collection}_meta"):
            client.close()
            raise IndexUnavailableError(
                f"no clipaware collection '{spec.collection}' at {spec.target}; run "
                f"`clipaware index FOLDER --store ...` first"
            )
        store = cls(spec, client)
        store._load()
        return store

    @classmethod
    def create_or_open(cls, spec: StoreSpec, model_name: str, dim: int) -> MilvusStore:
        from pymilvus import DataType

        client = _client(spec)
        store = cls(spec, client)
        if not client.has_collection(store._meta):
            schema = client.create_schema(auto_id=False)
            schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=64)
            schema.add_field("value", DataType.VARCHAR, max_length=4096)
            schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)
            store._create(store._meta, schema, "v")
            client.upsert(
                store._meta,
                [
                    {"key": "model", "value": model_name, "v": _DUMMY},
                    {"key": "dim", "value": str(dim), "v": _DUMMY},
                    {"key": "created_at", "value": str(time.time()), "v": _DUMMY},
                ],
            )
        if not client.has_collection(store._skipped):
            schema = client.create_schema(auto_id=False)
            schema.add_field("path", DataType.VARCHAR, is_primary=True, max_length=4096)
            schema.add_field("size", DataType.INT64)
            schema.add_field("mtime_ns", DataType.INT64)
            schema.add_field("reason", DataType.VARCHAR, max_length=1024)
            schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)
            store._create(store._skipped, schema, "v")
        store._load()
        store.require_model(model_name)
        if not client.has_collection(store.name):
            schema = client.create_schema(auto_id=False)
            schema.add_field("path", DataType.VARCHAR, is_primary=True, max_length=4096)
            schema.add_field("size", DataType.INT64)
            schema.add_field("mtime_ns", DataType.INT64)
            schema.add_field("sha256", DataType.VARCHAR, max_length=64)
            schema.add_field("width", DataType.INT64)
            schema.add_field("height", DataType.INT64)
            schema.add_field("taken_at", DataType.VARCHAR, max_length=32)
            schema.add_field("indexed_at", DataType.DOUBLE)
            schema.add_field("embedding", DataType.FLOAT_VECTOR, dim=store.dim)
            store._create(store.name, schema, "embedding", scalar=("sha256",))
        return store

    def _create(self, name: str, schema: Any, vector: str, scalar: tuple[str, ...] = ()) -> None:
        params = self.client.prepare_index_params()
        # Milvus Lite serves FLAT/IVF_FLAT/AUTOINDEX; a server picks its own ANN for AUTOINDEX (HNSW-like).
        params.add_index(vector, index_type="AUTOINDEX", metric_type="IP")
        if self.spec.kind == "milvus":  # Lite scans scalars; a server gets an inverted index for hash lookups
            for field in scalar:
                params.add_index(field, index_type="INVERTED")
        self.client.create_collection(name, schema=schema, index_params=params, consistency_level="Strong")

    def _load(self) -> None:
        rows = self.client.query(self._meta, filter='key != ""', output_fields=["key", "value"])
        meta = {r["key"]: r["value"] for r in rows}
        if "model" not in meta or "dim" not in meta:
            raise IndexUnavailableError(f"collection '{self.name}' at {self.spec.target} is not a clipaware store")
        self._model_name, self._dim = meta["model"], int(meta["dim"])

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> MilvusStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- meta
    @property
    def location(self) -> str:
        if self.spec.kind == "milvus-lite":
            return f"milvus-lite:{self.spec.target}#{self.name}"
        return f"milvus://{self.spec.target.removeprefix('http://')}/{self.name}"

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def dim(self) -> int:
        return self._dim

    def require_model(self, model_name: str | None) -> None:
        if model_name and model_name != self.model_name:
            raise ModelMismatchError(
                f"{self.location} was built with model '{self.model_name}', not '{model_name}'; query it with "
                f"--model {self.model_name} (or leave --model out), or index into another store"
            )

    # ---------------------------------------------------------------- reads
    def _iterate(self, collection: str, expr: str, fields: list[str]) -> Iterator[dict[str, Any]]:
        iterator = self.client.query_iterator(collection, batch_size=4096, filter=expr, output_fields=fields)
        try:
            while True:
                page = iterator.next()
                if not page:
                    return
                yield from page
        finally:
            iterator.close()

    def __len__(self) -> int:
        rows = self.client.query(self.name, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def files(self) -> dict[str, IndexedFile]:
        fields = ["path", "size", "mtime_ns", "sha256"]
        return {
            r["path"]: IndexedFile(r["path"], r["size"], r["mtime_ns"], r["sha256"])
            for r in self._iterate(self.name, 'path != ""', fields)
        }

    def file_facts(self, path: str) -> IndexedFile | None:
        rows = self.client.get(self.name, ids=[path], output_fields=["path", "size", "mtime_ns", "sha256"])
        return IndexedFile(path, rows[0]["size"], rows[0]["mtime_ns"], rows[0]["sha256"]) if rows else None

    def skipped_files(self) -> dict[str, tuple[int, int, str]]:
        fields = ["path", "size", "mtime_ns", "reason"]
        return {
            r["path"]: (r["size"], r["mtime_ns"], r["reason"])
            for r in self._iterate(self._skipped, 'path != ""', fields)
        }

    def same_content(self, sha256: str) -> tuple[np.ndarray, int | None, int | None] | None:
        rows = self.client.query(
            self.name, filter=f"sha256 == {_quote(sha256)}", output_fields=["embedding", "width", "height"], limit=1
        )
        if not rows:
            return None
        r = rows[0]
        return (np.asarray(r["embedding"], np.float32), _size(r["width"]), _size(r["height"]))

    def embedding_for_path(self, path: str) -> np.ndarray | None:
        rows = self.client.get(self.name, ids=[path], output_fields=["embedding"])
        return np.asarray(rows[0]["embedding"], np.float32) if rows else None

    def matrix(self) -> tuple[list[str], np.ndarray]:
        paths: list[str] = []
        vectors: list[list[float]] = []
        for r in self._iterate(self.name, 'path != ""', ["path", "embedding"]):
            paths.append(r["path"])
            vectors.append(r["embedding"])
        return paths, np.asarray(vectors, np.float32).reshape(len(paths), self.dim)

    def search(
        self, query: np.ndarray, k: int, filters: Filters | None = None, *, exact: bool | None = None
    ) -> list[tuple[str, float]]:
        """Milvus filters and searches; a glob (or a path with Milvus wildcards) is re-checked here.

        With a Python post-filter the search over-fetches (×10, then ×4 per round) until ``k`` pass or
        nothing more can come. ``exact`` scans every passing vector here instead of trusting Milvus'
        index, which may be approximate on a server.
        """
        filters = filters or Filters()
        expr, post = filters.milvus_expr()
        fields = ["path", "mtime_ns", "width", "height", "taken_at"]
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        if k < 1:
            return []
        if exact:

            def chunks() -> Iterator[tuple[list[str], np.ndarray]]:
                page: list[dict[str, Any]] = []
                for row in self._iterate(self.name, expr or 'path != ""', [*fields, "embedding"]):
                    if not post or self._passes(filters, row):
                        page.append(row)
                    if len(page) >= 4096:
                        yield [r["path"] for r in page], np.asarray([r["embedding"] for r in page], np.float32)
                        page = []
                if page:
                    yield [r["path"] for r in page], np.asarray([r["embedding"] for r in page], np.float32)

            return stream_top_k(chunks(), q, k)
        fetch = min(MAX_LIMIT, k * 10 if post else k)
        while True:
            result = self.client.search(
                self.name,
                data=[q.tolist()],
                limit=fetch,
                filter=expr,
                output_fields=fields,
                search_params={"metric_type": "IP"},
                anns_field="embedding",
            )[0]
            hits = [
                (hit["entity"]["path"], float(hit["distance"]))
                for hit in result
                if not post or self._passes(filters, hit["entity"])
            ]
            if len(hits) >= k or len(result) < fetch or fetch >= MAX_LIMIT:
                return hits[:k]
            fetch = min(MAX_LIMIT, fetch * 4)

    @staticmethod
    def _passes(filters: Filters, row: dict[str, Any]) -> bool:
        return filters.matches(
            row["path"],
            mtime_ns=row["mtime_ns"],
            width=_size(row["width"]),
            height=_size(row["height"]),
            taken_at=row["taken_at"] or None,
        )

    # --------------------------------------------------------------- writes
    def upsert(self, rows: Iterable[NewEmbedding]) -> None:
        """Upsert a batch (Milvus applies a batch as one request; a crash loses at most that batch)."""
        now = time.time()
        data = []
        for r in rows:
            vector = np.asarray(r.embedding, dtype=np.float32).reshape(-1)
            if vector.shape[0] != self.dim:
                raise ValueError(f"vector of size {vector.shape[0]} in a store of size {self.dim}")
            data.append(
                {
                    "path": r.path,
                    "size": int(r.size),
                    "mtime_ns": int(r.mtime_ns),
                    "sha256": r.sha256,
                    "width": -1 if r.width is None else int(r.width),
                    "height": -1 if r.height is None else int(r.height),
                    "taken_at": r.taken_at or "",
                    "indexed_at": now,
                    "embedding": vector.tolist(),
                }
            )
        if data:
            self.client.upsert(self.name, data)

    def touch(self, path: str, size: int, mtime_ns: int) -> None:
        rows = self.client.get(self.name, ids=[path], output_fields=["*"])
        if rows:
            row = dict(rows[0])
            row.update(size=int(size), mtime_ns=int(mtime_ns))
            self.client.upsert(self.name, [row])

    def remove(self, paths: Iterable[str]) -> int:
        paths = list(paths)
        if not paths:
            return 0
        present = self.client.get(self.name, ids=paths, output_fields=["path"])
        if present:
            self.client.delete(self.name, ids=[r["path"] for r in present])
        return len(present)

    def record_skips(self, rows: Iterable[tuple[str, int, int, str]]) -> None:
        data = [
            {"path": p, "size": int(s), "mtime_ns": int(m), "reason": reason[:1000], "v": _DUMMY}
            for p, s, m, reason in rows
        ]
        if data:
            self.client.upsert(self._skipped, data)

    def forget_skips(self, paths: Iterable[str]) -> None:
        paths = list(paths)
        if paths:
            self.client.delete(self._skipped, ids=paths)


def _size(value: int | None) -> int | None:
    return None if value is None or value < 0 else int(value)
