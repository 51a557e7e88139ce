"""The shapes world's detector: classical computer vision that finds shapes and boxes, never colours.

It plugs into the routes through the same :class:`~clipaware.models.detect.Detector` protocol as DETR and
OWLv2, so the evaluation measures the routes, not a detector's mistakes: on generated scenes it is exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from clipaware.images import ImageSource, load_image
from clipaware.models.detect import Detection


def _shape_label(label: str) -> str:
    label = label.strip().lower()
    return label[:-1] if label.endswith("s") and label[:-1] in {*SHAPE_PROTOTYPES, *GENERIC_LABELS} else label


GENERIC_LABELS = frozenset({"shape", "object", "thing"})

# (solidity, extent in the minimum-area rectangle) measured on drawn shapes; both are rotation-invariant.
# Solidity is slightly above 1 for convex shapes because pixel area exceeds the contour's polygon area.
SHAPE_PROTOTYPES: dict[str, tuple[float, float]] = {
    "circle": (1.03, 0.785),
    "square": (1.04, 1.0),
    "triangle": (1.04, 0.5),
    "star": (0.57, 0.375),
}


class ShapeDetector:
    """Classical detector for the shapes world: segment what differs from the background, classify contours.

    How: the background colour is the median of the image border; pixels far from it (``threshold`` in any
    channel) are foreground; each connected component of at least ``min_area`` pixels is one object, labelled
    by the nearest shape prototype in (solidity, rectangle-extent) space. The score falls with the distance
    to that prototype, so odd blobs get low scores instead of confident wrong labels.
    """

    def __init__(self, threshold: int = 40, min_area: int = 40, min_score: float = 0.0) -> None:
        self.threshold = threshold
        self.min_area = min_area
        self.min_score = min_score

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(SHAPE_PROTOTYPES)

    def detect(self, image: ImageSource, labels: Sequence[str] | None = None) -> list[Detection]:
        """Every shape found (or only those in ``labels``; plurals such as "circles" are accepted)."""
        import cv2

        rgb = np.asarray(load_image(image)).astype(np.int16)
        border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
        background = np.median(border, axis=0)
        mask = (np.abs(rgb - background).max(axis=2) > self.threshold).astype(np.uint8)
        n, components, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        wanted = None if labels is None else {_shape_label(label) for label in labels}
        if wanted is not None and wanted & GENERIC_LABELS:
            wanted = None  # "shapes", "objects": every shape is one
        found = []
        for k in range(1, n):
            x, y, w, h, area = (int(v) for v in stats[k])
            if area < self.min_area:
                continue
            component = (components[y : y + h, x : x + w] == k).astype(np.uint8)
            label, score = self._classify(component, area)
            if score < self.min_score or (wanted is not None and label not in wanted):
                continue
            found.append(Detection(label, score, (float(x), float(y), float(x + w), float(y + h))))
        return sorted(found, key=lambda d: (-d.score, d.box))

    @staticmethod
    def _classify(component: np.ndarray, area: int) -> tuple[str, float]:
        import cv2

        contours, _ = cv2.findContours(component, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        contour = max(contours, key=cv2.contourArea)
        hull_area = max(cv2.contourArea(cv2.convexHull(contour)), 1.0)
        (rw, rh) = cv2.minAreaRect(contour)[1]
        solidity = area / hull_area
        extent = area / ((rw + 1) * (rh + 1))
        distances = {name: math.hypot(solidity - s, extent - e) for name, (s, e) in SHAPE_PROTOTYPES.items()}
        label = min(distances, key=distances.get)
        # 0.125 is half the smallest gap between prototypes (square–circle in extent): past it, say so.
        score = math.exp(-((distances[label] / 0.125) ** 2))
        return label, score
