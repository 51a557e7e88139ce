"""Which files an MCP client may make the server read: the configured roots, and what the index holds.

An agent names images by path. The server runs with the user's rights, so a path from a prompt-injected
agent ("/home/me/.ssh/id_rsa", "../../etc/passwd", a symlink out of the photo folder) must be refused
before anything opens it. A reference is allowed when its *resolved* path (symlinks followed, ``..``
collapsed) lies under one of the roots, or when it is exactly a path the index already holds (the user put
it there by indexing it; search results hand such paths to the agent, which should be able to pass them
back). Nothing is read, stat-ed beyond resolution, or decoded before this check passes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from clipaware.errors import UsageError

# Longest path string we resolve at all: longer ones are not paths an agent means, and resolving them is
# wasted work (PATH_MAX is 4096 on Linux).
MAX_PATH_CHARS = 4096


class OutsideRootsError(UsageError):
    """A path the server is not allowed to read (outside every root and not in the index)."""


@dataclass(frozen=True)
class Roots:
    """The folders the server may read images from and index, resolved once at start."""

    folders: tuple[Path, ...]

    @classmethod
    def of(cls, folders: Sequence[str | Path]) -> Roots:
        resolved = []
        for folder in folders:
            path = Path(folder).expanduser().resolve()
            if not path.is_dir():
                raise UsageError(f"--root {folder}: no such folder")
            resolved.append(path)
        return cls(tuple(dict.fromkeys(resolved)))

    def contains(self, path: Path) -> bool:
        """Whether an already resolved ``path`` is one of the roots or below one."""
        return any(path == root or path.is_relative_to(root) for root in self.folders)

    def resolve(self, reference: str, *, indexed: Callable[[str], bool] | None = None) -> Path:
        """The absolute path ``reference`` names, or :class:`OutsideRootsError` when it may not be read.

        Relative references are taken relative to the first root (the agent does not know the server's
        working directory). ``indexed(path)`` says whether the index holds exactly that path.
        """
        text = reference.strip()
        if not text:
            raise UsageError("the image path is empty")
        if len(text) > MAX_PATH_CHARS or "\x00" in text:
            raise UsageError("the image path is not a usable path (too long or holds a NUL character)")
        given = Path(text).expanduser()
        if not given.is_absolute() and self.folders:
            given = self.folders[0] / given
        path = Path(os.path.realpath(given))
        if self.contains(path):
            return path
        if indexed is not None and indexed(str(path)):
            return path
        where = ", ".join(str(f) for f in self.folders) or "none configured"
        raise OutsideRootsError(f"{reference}: outside the allowed roots ({where}); start the server with --root")
