"""Index ids: the only way a request names an image, and the checks before any file is opened.

No request parameter ever becomes a filesystem path. An image is named by its id, a hash of the path the
index stores (stable across restarts and re-index runs, the same for every store kind), and the catalog
maps ids back to indexed paths. A file is served only when it is in the index, lies under a configured
root, and still does once every symlink on the way is resolved (a photo replaced by a link to
``~/.ssh/id_rsa`` is refused).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

ID_PATTERN = re.compile(r"^[0-9a-f]{16}$")


class NotInIndex(LookupError):
    """No indexed image has this id."""


class OutsideRoots(PermissionError):
    """The indexed file is not (or no longer) under a served root."""


def image_id(path: str) -> str:
    """The id of an indexed path: 16 hex digits of its SHA-256 (paths themselves never travel back in)."""
    return hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def is_under(path: str, roots: Iterable[Path]) -> bool:
    """Whether ``path`` (absolute, normalised) is one of ``roots`` or inside one."""
    return any(path == str(root) or path.startswith(str(root).rstrip(os.sep) + os.sep) for root in roots)


class ImageCatalog:
    """id → indexed path, rebuilt when the store changes; :meth:`open_path` is the one gate to a file."""

    def __init__(self, roots: Sequence[str | Path]) -> None:
        self.roots = tuple(Path(os.path.realpath(Path(r).expanduser())) for r in roots)
        self._paths: dict[str, str] = {}
        self._version: object = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._paths)

    def refresh(self, store: object, *, force: bool = False) -> None:
        """Re-read the indexed paths when the store changed (call on the thread that owns the store)."""
        version = (len(store), getattr(store, "generation", None))  # type: ignore[arg-type]
        if version == self._version and not force:
            return
        paths = {image_id(p): p for p in store.files()}  # type: ignore[attr-defined]
        with self._lock:
            self._paths, self._version = paths, version

    def path_of(self, ident: str) -> str:
        """The indexed path with this id, or :class:`NotInIndex` (malformed ids included)."""
        if not ID_PATTERN.match(ident):
            raise NotInIndex(ident)
        path = self._paths.get(ident)
        if path is None:
            raise NotInIndex(ident)
        return path

    def open_path(self, ident: str) -> Path:
        """The real file behind an id, checked: indexed, under a root, and still under it once resolved."""
        path = self.path_of(ident)
        if not is_under(os.path.normpath(path), self.roots):
            raise OutsideRoots(path)
        real = os.path.realpath(path)
        if not is_under(real, self.roots):
            raise OutsideRoots(path)  # a symlink (the file or a folder on the way) leads out of the roots
        if not os.path.isfile(real):
            raise NotInIndex(ident)  # indexed once, gone since
        return Path(real)
