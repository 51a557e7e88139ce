"""Decoding images safely: the one loader every command uses.

Photo libraries contain everything: CMYK scans, 16-bit PNGs, palette GIFs with transparency, phone
photos whose pixels are stored sideways (EXIF orientation), truncated downloads, files that are not
images at all, and the occasional decompression bomb. One loader handles all of them the same way:
every image comes out as upright 8-bit RGB, and every failure is an :class:`ImageLoadError` whose short
``reason`` goes into per-file skip reports. Large JPEGs are decoded with ``Image.draft`` straight to
(at least) the size the model needs, which is several times cheaper than a full decode.

Folders are hostile too: a named pipe called ``x.jpg`` blocks a reader forever, a symlink to
``/dev/zero`` or a sparse 30 GB file is read until memory runs out. So :func:`read_file` is the one place
files are opened: it reads only regular files, never waits on a pipe, and refuses a file larger than
:data:`MAX_FILE_BYTES` (or the caller's cap) before reading a byte. And since decoding costs memory by
pixels, not by file size (a 657 KB PNG can decode to 3.7 GB), :func:`decode_image` holds a
:class:`PixelBudget` while it decodes: the pixels being decoded at once stay under its limit however many
threads decode. Both limits are arguments (``clipaware index --max-file-mb / --decode-megapixels``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import stat
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from clipaware.errors import ImageLoadError, UsageError

try:  # HEIC/HEIF, the default format of iPhone photos: Pillow reads it through the pillow-heif plugin
    from pillow_heif import register_heif_opener
except ImportError:  # pragma: no cover - a core dependency; kept optional for unusual platforms
    HEIF_AVAILABLE = False
else:
    register_heif_opener()
    HEIF_AVAILABLE = True

# File suffixes that folder walks consider images. Anything else in a photo folder (sidecars, videos)
# is not ours to report; a file with one of these suffixes that fails to decode is reported.
IMAGE_SUFFIXES = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".png",
        ".apng",
        ".gif",
        ".bmp",
        ".webp",
        ".tif",
        ".tiff",
        ".ppm",
        ".pgm",
        ".pnm",
        ".avif",
        ".avifs",
        ".heic",
        ".heif",
        ".hif",
        ".psd",
        ".jp2",
        ".j2k",
        ".mpo",
        ".qoi",
        ".tga",
    }
)
HEIF_SUFFIXES = frozenset({".heic", ".heif", ".hif"})

# Image formats this tool cannot decode (camera raw, vector, layered editor files). A folder walk still
# lists them so that each is reported as skipped with this reason instead of silently ignored; a format
# that a Pillow plugin installed later can read is tried instead.
UNREADABLE_IMAGE_SUFFIXES = frozenset(
    {
        ".svg",
        ".svgz",
        ".eps",
        ".ai",
        ".xcf",
        ".kra",
        ".exr",
        ".hdr",
        ".jxl",
        ".raw",
        ".dng",
        ".cr2",
        ".cr3",
        ".crw",
        ".nef",
        ".nrw",
        ".arw",
        ".srf",
        ".sr2",
        ".orf",
        ".rw2",
        ".raf",
        ".pef",
        ".srw",
        ".x3f",
        ".erf",
        ".kdc",
        ".dcr",
        ".mrw",
        ".3fr",
    }
)

# Pillow's own error threshold (2x Image.MAX_IMAGE_PIXELS), enforced here explicitly so that the guard
# holds even if another library in the process switched Pillow's global check off.
MAX_PIXELS = 2 * 89_478_485

# The largest file read as an image by default (a camera JPEG is 5-30 MB, a 100-megapixel 16-bit TIFF ~600 MB).
DEFAULT_MAX_FILE_MB = 256
MAX_FILE_BYTES = DEFAULT_MAX_FILE_MB * 1024 * 1024
# Pixels being decoded at once, in all threads together, by default. Decoding costs up to ~20 bytes a pixel
# at its peak (RGBA, the white background, the composite, the RGB copy), so one largest-allowed image
# (~179 megapixels) bounds decoding to ~3.6 GB however many cores decode.
DEFAULT_DECODE_MEGAPIXELS = MAX_PIXELS // 1_000_000

# Truncated files must fail, not decode to grey: keep Pillow's strict default whatever others set.
ImageFile.LOAD_TRUNCATED_IMAGES = False
# Pillow's per-file warnings (a big-but-allowed image, corrupt EXIF) are about files the loader has already
# judged: an accepted image is used, a bad one is reported with a reason, so neither belongs on stderr.
# Set once here rather than with warnings.catch_warnings, which is not thread-safe and decoding is threaded.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
warnings.filterwarnings("ignore", message=r"(?i).*(exif|metadata|truncated)", module=r"PIL\.")

# Everything that names or holds an image: a path, encoded bytes, a PIL image or an (H, W[, C]) uint8 array.
ImageSource = str | Path | bytes | Image.Image | np.ndarray


@dataclass(frozen=True)
class Skipped:
    """A file that was not processed, and why (always reported, never silently dropped)."""

    path: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


class PixelBudget:
    """A counting gate by pixels: a decode waits while others hold the budget. One image larger than the
    whole budget still runs, alone, so nothing waits forever (images over :data:`MAX_PIXELS` are refused
    before they get here)."""

    def __init__(self, limit: int = DEFAULT_DECODE_MEGAPIXELS * 1_000_000) -> None:
        if limit < 1:
            raise UsageError(f"the decoding budget must be at least one pixel, not {limit}")
        self.limit = limit
        self._cond = threading.Condition()
        self.in_flight = 0
        self.peak = 0  # the most pixels ever held at once, for tests and benchmarks

    @contextlib.contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        with self._cond:
            while self.in_flight and self.in_flight + pixels > self.limit:
                self._cond.wait()
            self.in_flight += pixels
            self.peak = max(self.peak, self.in_flight)
        try:
            yield
        finally:
            with self._cond:
                self.in_flight -= pixels
                self._cond.notify_all()


DECODING = PixelBudget()  # the process-wide default: every decoder shares it unless handed its own


@dataclass(frozen=True)
class DecodedImage:
    """An upright RGB image plus facts the index records about the file it came from."""

    image: Image.Image
    width: int  # original, upright pixel size (before any draft-mode reduction)
    height: int
    format: str | None


_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def not_a_regular_file(mode: int) -> str | None:
    """The skip reason for a file that is not a regular file (by its ``st_mode``), or None."""
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), "not a plain file")
    return "is a folder, not a file" if kind == "a folder" else f"not a regular file: {kind}"


def unreadable_format(path: str | Path) -> str | None:
    """Why a file's image format cannot be decoded here (by its suffix), or None if it may be."""
    suffix = Path(path).suffix.lower()
    if suffix in HEIF_SUFFIXES and not HEIF_AVAILABLE:
        return f"unsupported image format ({suffix}): HEIC/HEIF needs pillow-heif (pip install pillow-heif)"
    if suffix in UNREADABLE_IMAGE_SUFFIXES and suffix not in Image.registered_extensions():
        return f"unsupported image format ({suffix}): convert it to JPEG or PNG to index it"
    return None


def read_file(path: str | Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``, or an ImageLoadError with the skip reason.

    Checked before anything is read: a FIFO, a device (a symlink to ``/dev/zero``), a socket or a folder
    is refused, and so is a file over the cap (a sparse 30 GB file). The open itself is non-blocking, so a
    pipe swapped in after the check cannot hang the reader either, and reading stops one byte past the cap
    if the file grows meanwhile.
    """
    path = Path(path)
    limit = max_bytes
    source = str(path)
    reason = unreadable_format(path)
    if reason:
        raise ImageLoadError(source, reason)
    try:
        reason = not_a_regular_file(os.stat(path).st_mode)
        if reason:
            raise ImageLoadError(source, reason)
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags)
        try:
            info = os.fstat(fd)
            reason = not_a_regular_file(info.st_mode)
            if reason:
                raise ImageLoadError(source, reason)
            if info.st_size > limit:
                raise ImageLoadError(source, _too_large(info.st_size, limit))
            chunks: list[bytes] = []
            total = 0
            while total <= limit:
                chunk = os.read(fd, min(1 << 20, limit + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
            if total > limit:
                raise ImageLoadError(source, _too_large(total, limit))
            return b"".join(chunks)
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise ImageLoadError(source, "file not found") from None
    except PermissionError:
        raise ImageLoadError(source, "unreadable: permission denied") from None
    except IsADirectoryError:
        raise ImageLoadError(source, "is a folder, not a file") from None
    except OSError as exc:
        raise ImageLoadError(source, f"unreadable: {exc.strerror or exc}") from None


def _too_large(size: int, limit: int) -> str:
    return (
        f"too large: {size / 1024 / 1024:,.0f} MB is over the {limit / 1024 / 1024:,.0f} MB limit "
        f"for an image file (index --max-file-mb raises it)"
    )


def content_hash(data: bytes) -> str:
    """The content hash the index uses to tell a changed file from a touched one."""
    return hashlib.sha256(data).hexdigest()


def decode_image(
    data: bytes, source: str = "<bytes>", target_size: int | None = None, budget: PixelBudget | None = None
) -> DecodedImage:
    """Decode bytes into an upright RGB image, or raise ImageLoadError with a short reason.

    ``target_size`` is the model's input side: JPEGs are then decoded in draft mode to the smallest
    power-of-two reduction whose both sides stay >= target_size, so the model's own resize still
    decides the final pixels. ``budget`` bounds the pixels in decoding at once (default :data:`DECODING`).
    """
    if not data:
        raise ImageLoadError(source, "empty file")
    try:
        img = Image.open(io.BytesIO(data))
        width, height = img.size
        if width * height > MAX_PIXELS:
            raise ImageLoadError(
                source, f"decompression bomb: {width}x{height} pixels exceeds the {MAX_PIXELS:,} limit"
            )
    except ImageLoadError:
        raise
    except UnidentifiedImageError:
        suffix = Path(source).suffix.lower()
        if suffix in HEIF_SUFFIXES and not HEIF_AVAILABLE:
            raise ImageLoadError(source, unreadable_format(source) or "") from None
        raise ImageLoadError(source, "not an image (unrecognised format)") from None
    except Exception as exc:
        raise _decode_failure(source, exc) from None
    with (budget or DECODING).hold(width * height):
        try:
            fmt = img.format
            if target_size and fmt == "JPEG":
                img.draft("RGB", (target_size, target_size))
            img.load()
        except Exception as exc:  # untrusted bytes make decoders raise anything; a file must never crash a run
            raise _decode_failure(source, exc) from None
        orientation = _orientation(img)
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        with contextlib.suppress(Exception):  # malformed EXIF: keep the pixels as stored, not lose the image
            img = ImageOps.exif_transpose(img)
        try:
            rgb = to_rgb(img)
        except Exception as exc:
            raise _decode_failure(source, exc) from None
    return DecodedImage(rgb, width, height, fmt)


def _decode_failure(source: str, exc: Exception) -> ImageLoadError:
    if isinstance(exc, Image.DecompressionBombError):
        return ImageLoadError(source, f"decompression bomb: {exc}")
    if isinstance(exc, MemoryError):
        return ImageLoadError(source, "too large to decode in the memory available")
    if isinstance(exc, OSError):
        msg = str(exc)
        return ImageLoadError(source, f"truncated: {msg}" if "truncated" in msg else f"corrupt: {msg}")
    return ImageLoadError(source, f"corrupt: {type(exc).__name__}: {exc}")


def _orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(0x0112, 1))
    except Exception:
        return 1


def load_image(source: ImageSource, target_size: int | None = None) -> Image.Image:
    """Any supported source (path, bytes, PIL image, pixel array) as an upright RGB PIL image."""
    if isinstance(source, Image.Image):
        return to_rgb(source)
    if isinstance(source, np.ndarray):
        return Image.fromarray(np.asarray(source, dtype=np.uint8)).convert("RGB")
    if isinstance(source, bytes):
        return decode_image(source, "<bytes>", target_size).image
    return decode_image(read_file(source), str(source), target_size).image


def to_rgb(img: Image.Image) -> Image.Image:
    """8-bit RGB from any Pillow mode; transparency is composited on white (how viewers show it)."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode.startswith("I;16"):
        return _gray_to_rgb(np.asarray(img, dtype=np.float64) * (255.0 / 65535.0))
    if mode == "I":  # 32-bit ints: usually 16-bit data (PNG), sometimes already 8-bit
        arr = np.asarray(img, dtype=np.float64)
        return _gray_to_rgb(arr * (255.0 / 65535.0) if arr.size and arr.max() > 255 else arr)
    if mode == "F":  # floats: 0..1 by convention, else treated as 0..255
        arr = np.asarray(img, dtype=np.float64)
        return _gray_to_rgb(arr * 255.0 if arr.size and arr.min() >= 0.0 and arr.max() <= 1.0 else arr)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    if has_alpha:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def _gray_to_rgb(arr: np.ndarray) -> Image.Image:
    """Grey levels already scaled to 0..255 (floats) as an RGB image."""
    return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), "L").convert("RGB")
