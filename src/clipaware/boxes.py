"""Boxes and their arithmetic: the one ``Box`` every layer passes around.

A box is ``(x0, y0, x1, y1)`` in pixels of the image it was found in, y growing downwards, x1/y1 exclusive —
as detectors return them. Detectors (non-maximum suppression), the relation geometry and the shapes world all
measure boxes with these few functions.
"""

from __future__ import annotations

import math

Box = tuple[float, float, float, float]


def width(b: Box) -> float:
    return max(0.0, b[2] - b[0])


def height(b: Box) -> float:
    return max(0.0, b[3] - b[1])


def area(b: Box) -> float:
    return width(b) * height(b)


def centre(b: Box) -> tuple[float, float]:
    return (b[0] + b[2]) / 2, (b[1] + b[3]) / 2


def intersection(a: Box, b: Box) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def iou(a: Box, b: Box) -> float:
    inter = intersection(a, b)
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


def gap(a: Box, b: Box) -> float:
    """Shortest distance between the two boxes' edges (0 when they touch or overlap)."""
    dx = max(0.0, max(a[0], b[0]) - min(a[2], b[2]))
    dy = max(0.0, max(a[1], b[1]) - min(a[3], b[3]))
    return math.hypot(dx, dy)
