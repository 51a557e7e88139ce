"""Pictures that explain an answer: detected boxes and a CLIP patch-text heat-map over the image.

Kept apart from the tasks so that tasks return data and only this module draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

PALETTE = ((230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240))


def draw_boxes(image: Image.Image, boxes: Sequence[tuple[str, Sequence[float]]]) -> Image.Image:
    """The image with each (caption, box) drawn in its own colour."""
    out = image.convert("RGB").copy()
    draw = ImageDraw.Draw(out)
    width = max(2, round(min(out.size) / 150))
    for i, (caption, box) in enumerate(boxes):
        colour = PALETTE[i % len(PALETTE)]
        x0, y0, x1, y1 = (float(v) for v in box)
        draw.rectangle((x0, y0, x1, y1), outline=colour, width=width)
        text_y = max(0.0, y0 - 12)
        draw.rectangle((x0, text_y, x0 + 6 * len(caption) + 4, text_y + 12), fill=colour)
        draw.text((x0 + 2, text_y), caption, fill=(255, 255, 255))
    return out


def heat_overlay(image: Image.Image, grid: np.ndarray, alpha: float = 0.5) -> Image.Image:
    """The image tinted red where the patch similarity is high (min-max scaled over the map)."""
    lo, hi = float(grid.min()), float(grid.max())
    scaled = (grid - lo) / (hi - lo) if hi > lo else np.zeros_like(grid)
    heat = Image.fromarray(np.uint8(scaled * 255), "L").resize(image.size, Image.Resampling.BICUBIC)
    red = Image.new("RGB", image.size, (255, 0, 0))
    mask = Image.fromarray(np.uint8(np.asarray(heat, dtype=np.float32) * alpha), "L")
    return Image.composite(red, image.convert("RGB"), mask)


def side_by_side(left: Image.Image, right: Image.Image) -> Image.Image:
    """Two panels of the same height next to each other."""
    height = max(left.height, right.height)
    canvas = Image.new("RGB", (left.width + right.width + 8, height), (255, 255, 255))
    canvas.paste(left, (0, 0))
    canvas.paste(right, (left.width + 8, 0))
    return canvas


def save_png(image: Image.Image, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "PNG")
    return path
