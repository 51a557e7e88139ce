"""Image preprocessing that gives the image processor's numbers without its detours.

Without torchvision, transformers' image processors run a PIL/NumPy path that converts every image
PIL → NumPy → PIL → NumPy around the resize and works in float64; on small images that costs more than
the resize itself. The steps are simple and are read from the processor's own config: resize (shortest
side, or to a fixed height × width) with its resampling filter, centre crop, rescale, normalise. Done
directly on the PIL image with the same Pillow resize, the result equals the processor's within float32
rounding (tested). Processors with other options (padding, longest-edge limits) keep the processor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image


def _field(size: Any, key: str) -> int | None:
    if size is None:
        return None
    value = size.get(key) if isinstance(size, dict) else getattr(size, key, None)
    return int(value) if value else None


@dataclass(frozen=True)
class FastPreprocessor:
    """The processor's resize → crop → rescale → normalise, as one NumPy pass per image."""

    shortest_edge: int | None  # resize the short side to this, keeping the aspect ratio
    resize_hw: tuple[int, int] | None  # or resize to exactly (height, width)
    crop_hw: tuple[int, int] | None
    resample: int
    scale: np.ndarray  # (3, 1, 1): rescale_factor / std
    shift: np.ndarray  # (3, 1, 1): -mean / std

    @classmethod
    def from_processor(cls, processor: Any) -> FastPreprocessor | None:
        """The equivalent fast preprocessor, or None when the processor does something we do not copy."""
        if processor is None or not getattr(processor, "do_resize", False):
            return None
        if getattr(processor, "do_pad", False):
            return None
        size = getattr(processor, "size", None)
        shortest, height, width = _field(size, "shortest_edge"), _field(size, "height"), _field(size, "width")
        if _field(size, "longest_edge") or _field(size, "max_height"):
            return None
        if not shortest and not (height and width):
            return None
        crop = None
        if getattr(processor, "do_center_crop", False):
            crop_size = getattr(processor, "crop_size", None)
            ch, cw = _field(crop_size, "height"), _field(crop_size, "width")
            if not (ch and cw):
                return None
            crop = (ch, cw)
            smallest = (shortest, shortest) if shortest else (height, width)
            if smallest[0] < ch or smallest[1] < cw:  # a crop that pads: leave that to the processor
                return None
        rescale = float(processor.rescale_factor) if getattr(processor, "do_rescale", False) else 1.0
        if getattr(processor, "do_normalize", False):
            mean = np.asarray(processor.image_mean, dtype=np.float64).reshape(-1)
            std = np.asarray(processor.image_std, dtype=np.float64).reshape(-1)
            mean, std = np.broadcast_to(mean, (3,)), np.broadcast_to(std, (3,))
        else:
            mean, std = np.zeros(3), np.ones(3)
        resample = getattr(processor, "resample", None)
        return cls(
            shortest_edge=shortest,
            resize_hw=None if shortest else (int(height), int(width)),  # type: ignore[arg-type]
            crop_hw=crop,
            resample=int(resample) if resample is not None else int(Image.Resampling.BILINEAR),
            scale=(rescale / std).astype(np.float32).reshape(3, 1, 1),
            shift=(-mean / std).astype(np.float32).reshape(3, 1, 1),
        )

    @property
    def output_hw(self) -> tuple[int, int]:
        if self.crop_hw:
            return self.crop_hw
        if self.resize_hw:
            return self.resize_hw
        return (int(self.shortest_edge), int(self.shortest_edge))  # type: ignore[arg-type]

    def resized_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) after the resize step, computed exactly as transformers does."""
        if self.resize_hw:
            return self.resize_hw[1], self.resize_hw[0]
        short_side = int(self.shortest_edge)  # type: ignore[arg-type]
        if width <= height:
            return short_side, int(short_side * height / width)
        return int(short_side * width / height), short_side

    def __call__(self, image: Image.Image) -> np.ndarray:
        """One RGB image as a ``(3, H, W)`` float32 array, ready for the model."""
        if image.mode != "RGB":
            image = image.convert("RGB")
        target = self.resized_size(*image.size)
        if target != image.size:
            image = image.resize(target, resample=self.resample)
        pixels = np.asarray(image)
        if self.crop_hw:
            ch, cw = self.crop_hw
            h, w = pixels.shape[:2]
            top, left = (h - ch) // 2, (w - cw) // 2
            pixels = pixels[top : top + ch, left : left + cw]
        chw = np.ascontiguousarray(pixels.transpose(2, 0, 1), dtype=np.float32)
        chw *= self.scale
        chw += self.shift
        return chw

    def batch(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Several images as one ``(n, 3, H, W)`` float32 batch."""
        if not images:
            return np.zeros((0, 3, *self.output_hw), np.float32)
        return np.stack([self(image) for image in images])
