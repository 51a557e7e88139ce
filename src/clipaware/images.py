"""Decoding images safely: the one loader every command uses.

Photo libraries contain everything: CMYK scans, 16-bit PNGs, palette GIFs with transparency, phone
photos whose pixels are stored sideways (EXIF orientation), truncated downloads, files that are not
images at all, and the occasional decompression bomb. One loader handles all of them the same way:
every image comes out as upright 8-bit RGB, and every failure is an :class:`ImageLoadError` whose short
``reason`` goes into per-file skip reports. Large JPEGs are decoded with ``Image.draft`` straight to
(at least) the size the model needs, which is several times cheaper than a full decode.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from clipaware.errors import ImageLoadError

# File suffixes that folder walks consider images. Anything else in a photo folder (sidecars, videos)
# is not ours to report; a file with one of these suffixes that fails to decode is reported.
IMAGE_SUFFIXES = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".png",
        ".gif",
        ".bmp",
        ".webp",
        ".tif",
        ".tiff",
        ".ppm",
        ".pgm",
        ".pnm",
    }
)

# Pillow's own error threshold (2x Image.MAX_IMAGE_PIXELS), enforced here explicitly so that the guard
# holds even if another library in the process switched Pillow's global check off.
MAX_PIXELS = 2 * 89_478_485

# Truncated files must fail, not decode to grey: keep Pillow's strict default whatever others set.
ImageFile.LOAD_TRUNCATED_IMAGES = False

# Everything that names or holds an image: a path, encoded bytes, a PIL image or an (H, W[, C]) uint8 array.
ImageSource = str | Path | bytes | Image.Image | np.ndarray


@dataclass(frozen=True)
class Skipped:
    """A file that was not processed, and why (always reported, never silently dropped)."""

    path: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@dataclass(frozen=True)
class DecodedImage:
    """An upright RGB image plus facts the index records about the file it came from."""

    image: Image.Image
    width: int  # original, upright pixel size (before any draft-mode reduction)
    height: int
    format: str | None


def read_file(path: str | Path) -> bytes:
    """The bytes of a file, with OS errors turned into skip reasons."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ImageLoadError(str(path), "file not found") from None
    except PermissionError:
        raise ImageLoadError(str(path), "unreadable: permission denied") from None
    except IsADirectoryError:
        raise ImageLoadError(str(path), "is a folder, not a file") from None
    except OSError as exc:
        raise ImageLoadError(str(path), f"unreadable: {exc.strerror or exc}") from None


def content_hash(data: bytes) -> str:
    """The content hash the index uses to tell a changed file from a touched one."""
    return hashlib.sha256(data).hexdigest()


def decode_image(data: bytes, source: str = "<bytes>", target_size: int | None = None) -> DecodedImage:
    """Decode bytes into an upright RGB image, or raise ImageLoadError with a short reason.

    ``target_size`` is the model's input side: JPEGs are then decoded in draft mode to the smallest
    power-of-two reduction whose both sides stay >= target_size, so the model's own resize still
    decides the final pixels.
    """
    if not data:
        raise ImageLoadError(source, "empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise ImageLoadError(
                    source, f"decompression bomb: {width}x{height} pixels exceeds the {MAX_PIXELS:,} limit"
                )
            fmt = img.format
            if target_size and fmt == "JPEG":
                img.draft("RGB", (target_size, target_size))
            img.load()
    except ImageLoadError:
        raise
    except UnidentifiedImageError:
        raise ImageLoadError(source, "not an image (unrecognised format)") from None
    except Image.DecompressionBombError as exc:
        raise ImageLoadError(source, f"decompression bomb: {exc}") from None
    except OSError as exc:
        msg = str(exc)
        reason = f"truncated: {msg}" if "truncated" in msg else f"corrupt: {msg}"
        raise ImageLoadError(source, reason) from None
    except Exception as exc:  # untrusted bytes make decoders raise anything; a file must never crash a run
        raise ImageLoadError(source, f"corrupt: {type(exc).__name__}: {exc}") from None
    orientation = _orientation(img)
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    with contextlib.suppress(Exception):  # malformed EXIF: keep the pixels as stored, not lose the image
        img = ImageOps.exif_transpose(img)
    return DecodedImage(to_rgb(img), width, height, fmt)


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
