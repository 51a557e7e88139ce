"""Incremental indexing of image folders.

A re-index must be cheap when little changed, so each file is compared in three steps, cheapest
first: (1) size and mtime equal to what the index holds → unchanged, nothing read; (2) otherwise the
content hash: equal → only the file facts are updated (a ``touch`` or a copy with new mtime); (3) only
new content is decoded and embedded, and even then a known hash (a moved or copied file) reuses the
stored vector. Files that vanished from an indexed folder are dropped. Every file that cannot be read
or decoded is reported with its reason. The model is loaded only when something must be embedded.

Reading, hashing, decoding and preprocessing run in :func:`clipaware.pipeline.ordered_map`'s worker
threads, a bounded number of files ahead of the main thread, so the next batch is decoded while the
current one is in the model. The workers never touch the store: the main thread takes their results in
file order and does every write, so the index ends up exactly as a serial loop would leave it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from clipaware.errors import ImageLoadError, UsageError
from clipaware.images import IMAGE_SUFFIXES, content_hash, decode_image, read_file
from clipaware.index.filters import taken_at_from_bytes
from clipaware.index.sqlite import DEFAULT_DB_NAME, ImageIndex
from clipaware.index.store import IndexedFile, NewEmbedding
from clipaware.models.runtime import BATCH_SIZES
from clipaware.pipeline import default_workers, ordered_map
from clipaware.progress import Report
from clipaware.tasks.results import Skipped

if TYPE_CHECKING:
    from clipaware.library import Library
    from clipaware.models.clip import ClipModel


@dataclass(frozen=True)
class IndexReport:
    """What one indexing run did. ``skipped`` lists every file left out, with its reason."""

    db: str
    model: str
    added: int
    updated: int
    removed: int
    unchanged: int
    skipped: tuple[Skipped, ...]
    ann: dict[str, object] | None = None  # the ANN file brought up to date (large SQLite indexes only)
    moved: int = 0  # files found under a new path with the same bytes: their vector moved with them
    written: bool = True  # False when nothing needed writing and no index existed: no file was created

    def to_dict(self) -> dict[str, object]:
        return {
            "ann": self.ann,
            "db": self.db,
            "written": self.written,
            "model": self.model,
            "added": self.added,
            "updated": self.updated,
            "moved": self.moved,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "skipped": [s.to_dict() for s in self.skipped],
        }


@dataclass(frozen=True)
class _Prepared:
    """One changed file as a worker left it: read and hashed, and decoded only when its content is new.

    Every outcome, a failure included, is data: the main thread writes them all, in file order.
    """

    path: str
    size: int
    mtime_ns: int
    sha256: str = ""
    touched: bool = False  # same bytes as the index holds for this path: only the file facts change
    taken_at: str | None = None
    pixels: np.ndarray | None = None  # the model's (3, H, W) float32 input; None when not decoded
    width: int | None = None  # upright size of the original, as DecodedImage reports it
    height: int | None = None
    failure: str | None = None  # the skip reason, when the file could not be read or decoded

    @property
    def new_content(self) -> bool:
        """Read fine and not just touched: it needs a vector, a reused or a new one."""
        return self.failure is None and not self.touched


class _Reader:
    """The per-file work of an index run, done in the pipeline's worker threads.

    It reads and hashes each file; only content the index has never seen is then decoded and
    preprocessed, since a touched file keeps its vector and a moved or copied one reuses a stored
    vector. What the index held is handed over up front (``known``), so workers never need an SQLite
    connection. ``model`` is ``None`` when decoding happens elsewhere (Ray); otherwise it is called only
    when something must be decoded, so a run in which nothing new turns up never loads a model.
    """

    def __init__(self, known: Mapping[str, IndexedFile], model: Callable[[], ClipModel] | None) -> None:
        self.known = known
        self.known_hashes = frozenset(r.sha256 for r in known.values())
        self.model = model

    def __call__(self, item: tuple[str, int, int], *, decode_known: bool = False) -> _Prepared:
        """``decode_known`` decodes even content the index held when the run began (see index_paths)."""
        key, size, mtime_ns = item
        try:
            data = read_file(key)
            sha = content_hash(data)
            record = self.known.get(key)
            if record is not None and record.sha256 == sha:
                return _Prepared(key, size, mtime_ns, sha, touched=True)
            taken_at = taken_at_from_bytes(data)
            if self.model is None or (sha in self.known_hashes and not decode_known):
                return _Prepared(key, size, mtime_ns, sha, taken_at=taken_at)
            model = self.model()
            decoded = decode_image(data, key, model.image_size)
            pixels = model.preprocess(decoded.image)
        except ImageLoadError as exc:
            return _Prepared(key, size, mtime_ns, failure=exc.reason)
        return _Prepared(
            key, size, mtime_ns, sha, taken_at=taken_at, pixels=pixels, width=decoded.width, height=decoded.height
        )


def default_db_for(paths: Sequence[str | Path]) -> Path:
    """The index that already covers the first folder (the nearest ``.clipaware.db`` in it or a parent, the
    one a search from there would use), else a new ``.clipaware.db`` in that folder.

    Indexing a sub-folder of an indexed folder thus updates the existing index instead of starting a second,
    nested one that later searches from the sub-folder would silently use.
    """
    first = Path(paths[0]).expanduser().resolve()
    folder = first.parent if first.is_file() else first
    for candidate in (folder, *folder.parents):
        if (candidate / DEFAULT_DB_NAME).is_file():
            return candidate / DEFAULT_DB_NAME
    return folder / DEFAULT_DB_NAME


def walk_images(root: Path, skip: set[Path]) -> Iterator[Path]:
    """Image files under ``root``, sorted, skipping hidden files and folders and the index's own files."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            if name.startswith(".") or path.suffix.lower() not in IMAGE_SUFFIXES or path in skip:
                continue
            yield path


def _under(path: str, roots: Sequence[Path]) -> bool:
    return any(path == str(r) or path.startswith(str(r) + os.sep) for r in roots)


def index_paths(
    library: Library,
    paths: Sequence[str | Path],
    *,
    batch_size: int | None = None,
    progress: Report | None = None,
    ray: str | None = None,
) -> IndexReport:
    """Bring ``library`` (opened with ``create=True``) up to date with the images under ``paths``.

    The library names the store and the model (an existing index keeps its own; see
    :meth:`clipaware.library.Library.open`); its model is loaded only when something must be embedded,
    and its store created only when something must be written. ``progress(done, total)`` is called as
    changed files are read and embedded. ``ray`` (a Ray address, or ``"local"`` to start one here)
    decodes and embeds on a Ray cluster instead of in this process; everything else (what to embed,
    what to write) stays the same.
    """
    if not paths:
        raise UsageError("give at least one folder or image file to index")
    roots = [Path(p).expanduser().resolve() for p in paths]
    for root, given in zip(roots, paths, strict=True):
        if not root.exists():
            raise UsageError(f"no such file or folder: {given}")
    spec = library.spec
    db_path = Path(spec.target)
    own_files = {db_path.with_name(db_path.name + s) for s in ("", "-wal", "-shm", "-journal", ".ann")}
    existing = library.opened
    model_name = library.model_name

    counts = {"added": 0, "updated": 0, "moved": 0, "removed": 0, "unchanged": 0}
    skipped: list[Skipped] = []
    known = existing.files() if existing is not None else {}
    known_bad = existing.skipped_files() if existing is not None else {}
    candidates: list[Path] = []
    for root in roots:
        candidates.extend([root] if root.is_file() else walk_images(root, own_files))

    # Pass 1: file facts only. Unchanged size + mtime means nothing is read.
    seen: set[str] = set()
    to_read: list[tuple[str, int, int]] = []
    for path in candidates:
        key = str(path)
        if key in seen:
            continue
        seen.add(key)
        try:
            st = path.stat()
        except OSError as exc:
            skipped.append(Skipped(key, f"unreadable: {exc.strerror or exc}"))
            continue
        record = known.get(key)
        bad = known_bad.get(key)
        if record is not None and (record.size, record.mtime_ns) == (st.st_size, st.st_mtime_ns):
            counts["unchanged"] += 1
        elif bad is not None and bad[:2] == (st.st_size, st.st_mtime_ns):
            skipped.append(Skipped(key, bad[2]))  # still the same bad file: report it, don't re-read it
        else:
            to_read.append((key, st.st_size, st.st_mtime_ns))

    # Pass 2: read, hash, decode and embed what may have changed, in batches. Workers read, hash and
    # decode ahead (2 batches: enough to keep the engine fed, little enough to keep memory flat); this
    # thread writes. The default batch size belongs to the engine, which is not loaded yet, so the
    # look-ahead assumes the largest one. With Ray, decoding is left to the Ray workers.
    reader = _Reader(known, (lambda: library.model) if ray is None else None)
    stale: list[str] = []
    new_skips: list[tuple[str, int, int, str]] = []
    reused: dict[str, int] = {}  # content hash -> new paths that took a stored vector (a move, if the old path went)
    batch: list[_Prepared] = []

    def flush() -> None:
        if batch and ray is None:
            vectors = library.model.embed_pixels(np.stack([p.pixels for p in batch]))
            library.store.upsert(
                NewEmbedding(p.path, p.size, p.mtime_ns, p.sha256, p.width, p.height, v, p.taken_at)
                for p, v in zip(batch, vectors, strict=True)
            )
            for p in batch:
                counts["updated" if p.path in known else "added"] += 1
            batch.clear()

    def stored(sha: str) -> tuple[np.ndarray, int | None, int | None] | None:
        return library.opened.same_content(sha) if library.opened is not None else None

    ahead = 2 * (batch_size or max(BATCH_SIZES.values()))
    prepared = ordered_map(reader, to_read, workers=default_workers(), ahead=ahead)
    for done, (item, read) in enumerate(zip(to_read, prepared, strict=True), 1):
        key, size, mtime_ns = item
        try:
            same = stored(read.sha256) if read.new_content else None
            if same is None and read.new_content and read.pixels is None and ray is None:
                # its content was in the index when the run began, so the worker did not decode it,
                # but that row has been overwritten since (contents swapped between files): decode here
                read = reader(item, decode_known=True)
                same = stored(read.sha256) if read.new_content else None
            if read.failure is not None:
                skipped.append(Skipped(key, read.failure))
                new_skips.append((key, size, mtime_ns, read.failure))
                if key in known:
                    stale.append(key)  # its old vector no longer describes the file
                continue
            if read.touched:
                library.store.touch(key, size, mtime_ns)
                counts["unchanged"] += 1
                continue
            if same is not None:  # moved or copied file: same bytes, same vector
                vector, width, height = same
                row = NewEmbedding(key, size, mtime_ns, read.sha256, width, height, vector, read.taken_at)
                library.store.upsert([row])
                counts["updated" if key in known else "added"] += 1
                if key not in known:
                    reused[read.sha256] = reused.get(read.sha256, 0) + 1
                continue
        finally:
            if progress:
                progress(done, len(to_read))
        batch.append(read)
        if ray is None and len(batch) >= (batch_size or library.model.batch_size):  # engine's size by default
            flush()
    flush()
    if ray is not None and batch:  # one Ray Data pipeline over everything left to embed
        from clipaware.tasks.distributed import embed_on_ray

        pending = {p.path: p for p in batch}
        for rows, failures in embed_on_ray(
            batch,
            library.model_name,
            runtime=library.runtime,
            precision=library.precision,
            onnx_cache=str(library.onnx_cache) if library.onnx_cache else None,
            address=ray,
            batch_size=batch_size or 32,
        ):
            library.store.upsert(
                NewEmbedding(
                    r.path,
                    pending[r.path].size,
                    pending[r.path].mtime_ns,
                    pending[r.path].sha256,
                    r.width,
                    r.height,
                    r.embedding,
                    pending[r.path].taken_at,
                )
                for r in rows
            )
            for r in rows:
                counts["updated" if r.path in known else "added"] += 1
            for path, reason in failures:
                p = pending[path]
                skipped.append(Skipped(path, reason))
                new_skips.append((path, p.size, p.mtime_ns, reason))
                if path in known:
                    stale.append(path)

    # Pass 3: remember the failures; forget what vanished from the indexed folders (other folders stay).
    if new_skips:
        library.store.record_skips(new_skips)
    index = library.opened
    if index is not None:
        vanished = [p for p in known if _under(p, roots) and p not in seen]
        gone = vanished + stale
        if gone:
            counts["removed"] = index.remove(gone)
        for path in vanished:  # a vanished file whose bytes reappeared under a new path was moved
            sha = known[path].sha256
            if reused.get(sha, 0) > 0:
                reused[sha] -= 1
                counts["added"] -= 1
                counts["removed"] -= 1
                counts["moved"] += 1
        failed = {s.path for s in skipped}
        fixed_or_gone = [p for p in known_bad if p not in failed and (p in seen or _under(p, roots))]
        if fixed_or_gone:
            index.forget_skips(fixed_or_gone)
        ann = None
        if isinstance(index, ImageIndex) and len(index) >= index.ann_threshold:
            ann = index.ann()[1].to_dict()  # now, so that the next search does not pay for it
        return IndexReport(index.location, model_name, skipped=tuple(skipped), ann=ann, **counts)
    return IndexReport(library.location, model_name, skipped=tuple(skipped), written=False, **counts)
