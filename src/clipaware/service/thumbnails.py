"""Thumbnails of indexed images: made once through the one image loader, kept on disk, served by id.

A grid of 50 results must not decode 50 full-size photos per page view. Each thumbnail is a small JPEG
made with :func:`clipaware.images.decode_image` (so bombs, truncated and corrupt files fail the same way
as everywhere else, and JPEGs decode in draft mode straight to about the needed size) and cached under a
key of the file's real path, size and mtime: an edited photo gets a new thumbnail, an unchanged one is
never decoded twice. Writes are atomic (temporary file, then rename), so a killed server leaves no
half-written thumbnail behind.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path

from clipaware.images import decode_image, read_file

THUMBNAIL_SIDE = 256


class Thumbnails:
    """A folder of cached JPEG thumbnails (``folder`` is created on first write)."""

    def __init__(self, folder: Path, side: int = THUMBNAIL_SIDE, quality: int = 80) -> None:
        self.folder = Path(folder)
        self.side = side
        self.quality = quality

    def key(self, real: Path) -> str:
        st = real.stat()
        facts = f"{real}\0{st.st_size}\0{st.st_mtime_ns}\0{self.side}"
        return hashlib.sha256(facts.encode("utf-8", "surrogateescape")).hexdigest()

    def get(self, real: Path) -> bytes:
        """The thumbnail of the (already checked) file ``real``: from the cache, else made and cached."""
        key = self.key(real)
        cached = self.folder / key[:2] / f"{key}.jpg"
        try:
            return cached.read_bytes()
        except FileNotFoundError:
            pass
        data = self.make(real)
        cached.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cached.parent, prefix=".tmp-", suffix=".jpg")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, cached)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return data

    def make(self, real: Path) -> bytes:
        image = decode_image(read_file(real), str(real), target_size=self.side).image
        image.thumbnail((self.side, self.side))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=self.quality, optimize=True)
        return buffer.getvalue()


def default_folder(store_file: str | Path) -> Path:
    """A hidden folder beside an SQLite index (hidden, so indexing never walks into it)."""
    db = Path(store_file)
    name = db.name if db.name.startswith(".") else f".{db.name}"
    return db.with_name(f"{name}.thumbnails")
