"""Incremental indexing of image folders.

A re-index must be cheap when little changed, so each file is compared in three steps, cheapest
first: (1) size and mtime equal to what the index holds → unchanged, nothing read; (2) otherwise the
content hash: equal → only the file facts are updated (a ``touch`` or a copy with new mtime); (3) only
new content is decoded and embedded, and even then a known hash (a moved or copied file) reuses the
stored vector. Files that vanished from an indexed folder are dropped. Every file that cannot be read
or decoded is reported with its reason. The model is loaded only when something must be embedded.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clipaware.errors import ImageLoadError, UsageError
from clipaware.images import IMAGE_SUFFIXES, content_hash, decode_image, read_file
from clipaware.index.sqlite import DEFAULT_DB_NAME, ImageIndex, NewEmbedding
from clipaware.models.clip import ClipModel
from clipaware.models.hub import canonical_model_name
from clipaware.models.registry import MODEL_ENV, resolve_model_name
from clipaware.pipeline import ordered_map
from clipaware.progress import Report
from clipaware.tasks.results import Skipped


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

    def to_dict(self) -> dict[str, object]:
        return {
            "db": self.db,
            "model": self.model,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "skipped": [s.to_dict() for s in self.skipped],
        }


@dataclass
class _Pending:
    """A decoded, preprocessed file waiting for its batch to be embedded."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    width: int  # original, upright size (the decoded pixels themselves are not kept)
    height: int
    is_update: bool
    pixels: np.ndarray


@dataclass
class _Read:
    """What a decoding worker found for one file: touched only, decoded and preprocessed, or an error."""

    sha256: str = ""
    pixels: np.ndarray | None = None
    width: int = 0
    height: int = 0
    error: str | None = None


class _Writer:
    """Opens the model and the index on first need, so an unchanged re-index never loads a model."""

    def __init__(self, db_path: Path, model_name: str, index: ImageIndex | None) -> None:
        self.db_path, self.model_name, self._index = db_path, model_name, index
        self._model: ClipModel | None = None
        self._lock = threading.Lock()  # decoding workers may be the first to need the model

    @property
    def model(self) -> ClipModel:
        with self._lock:
            if self._model is None:
                self._model = ClipModel.load(self.model_name)
            return self._model

    @property
    def index(self) -> ImageIndex:
        if self._index is None:
            self._index = ImageIndex.create_or_open(self.db_path, self.model_name, self.model.embedding_dim)
        return self._index

    @property
    def opened(self) -> ImageIndex | None:
        return self._index


def default_db_for(paths: Sequence[str | Path]) -> Path:
    """``.clipaware.db`` in the first indexed folder (the folder of the first file, if it is a file)."""
    first = Path(paths[0]).expanduser().resolve()
    return (first.parent if first.is_file() else first) / DEFAULT_DB_NAME


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
    paths: Sequence[str | Path],
    *,
    db: str | Path | None = None,
    model: str | None = None,
    batch_size: int | None = None,
    progress: Report | None = None,
) -> IndexReport:
    """Bring the index at ``db`` up to date with the images under ``paths``.

    ``model`` (or ``CLIPAWARE_MODEL``) must match the model an existing index was built with.
    ``progress(done, total)`` is called as changed files are read and embedded, for a progress bar.
    Files are read, hashed, decoded and preprocessed by worker threads ahead of the model
    (:mod:`clipaware.pipeline`); ``batch_size`` defaults to what suits the model's engine.
    """
    if not paths:
        raise UsageError("give at least one folder or image file to index")
    roots = [Path(p).expanduser().resolve() for p in paths]
    for root, given in zip(roots, paths, strict=True):
        if not root.exists():
            raise UsageError(f"no such file or folder: {given}")
    db_path = Path(db).expanduser().resolve() if db else default_db_for(paths)
    own_files = {db_path.with_name(db_path.name + s) for s in ("", "-wal", "-shm", "-journal")}

    requested = model or os.environ.get(MODEL_ENV)
    existing = ImageIndex.open(db_path) if db_path.is_file() else None
    if existing is not None:
        if requested:
            existing.require_model(canonical_model_name(requested))
        model_name = existing.model_name
    else:
        model_name = canonical_model_name(resolve_model_name(requested))

    counts = {"added": 0, "updated": 0, "removed": 0, "unchanged": 0}
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

    # Pass 2: read, hash, decode and embed what may have changed, in batches.
    writer = _Writer(db_path, model_name, existing)
    stale: list[str] = []
    new_skips: list[tuple[str, int, int, str]] = []
    batch: list[_Pending] = []

    def flush() -> None:
        if batch:
            vectors = writer.model.embed_pixels(np.stack([p.pixels for p in batch]))
            writer.index.upsert(
                NewEmbedding(p.path, p.size, p.mtime_ns, p.sha256, p.width, p.height, v)
                for p, v in zip(batch, vectors, strict=True)
            )
            for p in batch:
                counts["updated" if p.is_update else "added"] += 1
            batch.clear()

    def read(entry: tuple[str, int, int]) -> _Read:
        """Runs in a worker thread: touches nothing shared but the (locked) model loader."""
        key = entry[0]
        record = known.get(key)
        try:
            data = read_file(key)
            sha = content_hash(data)
            if record is not None and record.sha256 == sha:  # touched, not changed: no decoding
                return _Read(sha)
            model = writer.model
            decoded = decode_image(data, key, model.image_size)
            return _Read(sha, model.preprocess(decoded.image), decoded.width, decoded.height)
        except ImageLoadError as exc:
            return _Read(error=exc.reason)

    size_of_batch = batch_size
    for done, ((key, size, mtime_ns), found) in enumerate(
        zip(to_read, ordered_map(read, to_read, ahead=64), strict=True), 1
    ):
        record = known.get(key)
        if progress:
            progress(done, len(to_read))
        if found.error is not None:
            skipped.append(Skipped(key, found.error))
            new_skips.append((key, size, mtime_ns, found.error))
            if record is not None:
                stale.append(key)  # its old vector no longer describes the file
            continue
        if found.pixels is None:  # touched, not changed
            writer.index.touch(key, size, mtime_ns)
            counts["unchanged"] += 1
            continue
        same = writer.opened.same_content(found.sha256) if writer.opened is not None else None
        if same is not None:  # moved or copied file: same bytes, same vector
            vector, width, height = same
            writer.index.upsert([NewEmbedding(key, size, mtime_ns, found.sha256, width, height, vector)])
            counts["updated" if record is not None else "added"] += 1
            continue
        batch.append(
            _Pending(key, size, mtime_ns, found.sha256, found.width, found.height, record is not None, found.pixels)
        )
        size_of_batch = size_of_batch or writer.model.batch_size
        if len(batch) >= size_of_batch:
            flush()
    flush()

    # Pass 3: remember the failures; forget what vanished from the indexed folders (other folders stay).
    if new_skips:
        writer.index.record_skips(new_skips)
    index = writer.opened
    if index is not None:
        gone = [p for p in known if _under(p, roots) and p not in seen] + stale
        if gone:
            counts["removed"] = index.remove(gone)
        failed = {s.path for s in skipped}
        fixed_or_gone = [p for p in known_bad if p not in failed and (p in seen or _under(p, roots))]
        if fixed_or_gone:
            index.forget_skips(fixed_or_gone)
        index.close()
    return IndexReport(str(db_path), model_name, skipped=tuple(skipped), **counts)
