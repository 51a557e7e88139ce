"""Detectors: what is in an image and where, as labelled boxes with scores.

CLIP scores a whole image against a whole sentence, so it cannot count, locate or bind attributes. The routes
that can (count, relate, bind, negate) need boxes, and they get them through this one small protocol so that
any detector — DETR, OWLv2, or the classical :class:`ShapeDetector` of the shapes world — plugs in unchanged.

A detector returns object labels and boxes only, never attributes such as colour: judging "red" is left to
CLIP on the box's crop, exactly as it must be with a real detector.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image

from clipaware.errors import ModelNotAvailableError, UsageError
from clipaware.models.coco import coco_class
from clipaware.query.tokens import singular

ImageInput = Image.Image | np.ndarray | str | Path

DETR = "facebook/detr-resnet-50"
OWLV2 = "google/owlv2-base-patch16-ensemble"
NMS_IOU = 0.5


@dataclass(frozen=True)
class Detection:
    """One detected object: ``box`` is (x0, y0, x1, y1) in pixels of the input image, x1/y1 exclusive."""

    label: str
    score: float
    box: tuple[float, float, float, float]

    @property
    def centre(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2, (y0 + y1) / 2

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "score": round(float(self.score), 4),
            "box": [float(v) for v in self.box],
        }


@runtime_checkable
class Detector(Protocol):
    """Anything that finds labelled boxes; ``labels`` restricts (open-vocabulary models: sets) the classes."""

    def detect(self, image: ImageInput, labels: Sequence[str] | None = None) -> list[Detection]: ...


def as_pil(image: ImageInput) -> Image.Image:
    """Any image input as upright RGB, through the one safe loader."""
    from clipaware.images import load_image

    if isinstance(image, np.ndarray):
        return Image.fromarray(np.asarray(image, dtype=np.uint8)).convert("RGB")
    return load_image(image)


def nms(detections: Sequence[Detection], iou_threshold: float = NMS_IOU) -> list[Detection]:
    """Greedy non-maximum suppression per label: keep the best box, drop same-label boxes overlapping it.

    Detectors often fire twice on one object; without this a count route would over-count.
    """
    from clipaware.tasks.geometry import iou

    kept: list[Detection] = []
    for det in sorted(detections, key=lambda d: -d.score):
        if all(k.label != det.label or iou(k.box, det.box) < iou_threshold for k in kept):
            kept.append(det)
    return kept


def _load(name: str, kind: str) -> tuple[Any, Any, Any]:
    """Model, image processor and (OWLv2) tokenizer of a detector, by hub name or folder."""
    from clipaware.models.hub import model_folder

    folder = model_folder(name, option="--detector")  # first: a missing model is reported before torch loads
    import torch
    from transformers import AutoConfig, AutoImageProcessor, AutoModelForZeroShotObjectDetection, AutoTokenizer

    from clipaware.models.clip import quiet_transformers

    quiet_transformers()
    config = AutoConfig.from_pretrained(folder)
    if config.model_type != kind:
        raise ModelNotAvailableError(f"model '{name}' is a {config.model_type!r} model, not a {kind} detector")
    backbone = getattr(config, "backbone_config", None)
    if getattr(config, "use_timm_backbone", False) or getattr(backbone, "model_type", "") == "timm_backbone":
        raise ModelNotAvailableError(
            f"model '{name}' uses a timm backbone (which needs torchvision); use its no_timm revision "
            f"(`clipaware models pull {DETR}` fetches it)"
        )
    try:
        processor = AutoImageProcessor.from_pretrained(folder)
        if kind == "detr":
            from transformers import DetrForObjectDetection

            return DetrForObjectDetection.from_pretrained(folder, dtype=torch.float32).eval(), processor, None
        model = AutoModelForZeroShotObjectDetection.from_pretrained(folder, dtype=torch.float32).eval()
        return model, processor, AutoTokenizer.from_pretrained(folder)
    except (OSError, ValueError) as exc:
        raise ModelNotAvailableError(
            f"detector '{name}' could not be loaded from {folder}: {str(exc).splitlines()[0]}; its files may be "
            f"incomplete — run `clipaware models pull {name}` again"
        ) from exc


class DetrDetector:
    """DETR (ResNet-50): the 80 COCO classes, fast on CPU. Query nouns are mapped to COCO names."""

    def __init__(self, name: str = DETR, threshold: float = 0.7) -> None:
        self.name, self.threshold = name, threshold
        self.model, self.processor, _ = _load(name, "detr")

    def detect(self, image: ImageInput, labels: Sequence[str] | None = None) -> list[Detection]:
        import torch

        pil = as_pil(image)
        wanted = {coco_class(label) or label: label for label in labels} if labels else None
        with torch.inference_mode():
            outputs = self.model(**self.processor(images=pil, return_tensors="pt"))
        result = self.processor.post_process_object_detection(
            outputs, threshold=self.threshold, target_sizes=[(pil.height, pil.width)]
        )[0]
        found = []
        for score, label_id, box in zip(result["scores"], result["labels"], result["boxes"], strict=True):
            name = self.model.config.id2label[int(label_id)]
            if wanted is not None and name not in wanted:
                continue
            label = wanted[name] if wanted is not None else name
            found.append(Detection(label, float(score), tuple(float(v) for v in box.tolist())))
        return nms(found)


class Owlv2Detector:
    """OWLv2: open-vocabulary detection of any named thing; needs the labels to look for."""

    def __init__(self, name: str = OWLV2, threshold: float = 0.2) -> None:
        self.name, self.threshold = name, threshold
        self.model, self.processor, self.tokenizer = _load(name, "owlv2")

    def detect(self, image: ImageInput, labels: Sequence[str] | None = None) -> list[Detection]:
        import torch

        if not labels:
            raise UsageError("an open-vocabulary detector needs the names of the things to find")
        pil = as_pil(image)
        queries = [f"a photo of a {singular(label)}" for label in labels]
        text = self.tokenizer(queries, padding="max_length", max_length=16, truncation=True, return_tensors="pt")
        pixels = self.processor(images=pil, return_tensors="pt")
        with torch.inference_mode():
            outputs = self.model(input_ids=text["input_ids"], attention_mask=text["attention_mask"], **pixels)
        side = max(pil.width, pil.height)  # OWLv2 pads to a square: boxes are relative to that square
        result = self.processor.post_process_object_detection(
            outputs, threshold=self.threshold, target_sizes=[(side, side)]
        )[0]
        found = []
        for score, label_id, box in zip(result["scores"], result["labels"], result["boxes"], strict=True):
            x0, y0, x1, y1 = (float(v) for v in box.tolist())
            clipped = (max(0.0, x0), max(0.0, y0), min(float(pil.width), x1), min(float(pil.height), y1))
            if clipped[2] - clipped[0] >= 1 and clipped[3] - clipped[1] >= 1:  # drop boxes clipped to nothing
                found.append(Detection(labels[int(label_id)], float(score), clipped))
        return nms(found)


def choose_detector_name(nouns: Sequence[str]) -> str:
    """DETR when every noun is a COCO class (fast, closed vocabulary), else OWLv2 (open vocabulary)."""
    return DETR if nouns and all(coco_class(n) for n in nouns) else OWLV2


def load_detector(kind: str, nouns: Sequence[str] = ()) -> Detector:
    """``auto`` (by the nouns), ``detr``, ``owlv2``, ``shapes``, or a model folder/hub name."""
    kind = kind.strip()
    if kind == "auto":
        kind = choose_detector_name(nouns)
    if kind in ("detr", DETR):
        return DetrDetector()
    if kind in ("owlv2", OWLV2):
        return Owlv2Detector()
    if kind == "shapes":
        from clipaware.models.detect import ShapeDetector  # type: ignore[attr-defined]  # added by the shapes world

        return ShapeDetector()
    from clipaware.models.hub import model_folder

    folder = model_folder(kind, option="--detector")
    from transformers import AutoConfig

    model_type = AutoConfig.from_pretrained(folder).model_type
    if model_type == "detr":
        return DetrDetector(kind)
    if model_type == "owlv2":
        return Owlv2Detector(kind)
    raise UsageError(f"--detector {kind}: expected auto, detr, owlv2, shapes, or a DETR/OWLv2 model")


# ------------------------------------------------------------------------------------------ shapes world
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

    def detect(self, image: ImageInput, labels: Sequence[str] | None = None) -> list[Detection]:
        """Every shape found (or only those in ``labels``; plurals such as "circles" are accepted)."""
        import cv2

        rgb = np.asarray(as_pil(image)).astype(np.int16)
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
