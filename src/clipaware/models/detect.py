"""Detectors: what is in an image and where, as labelled boxes with scores.

CLIP scores a whole image against a whole sentence, so it cannot count, locate or bind attributes. The routes
that can (count, relate, bind, negate) need boxes, and they get them through this one small protocol so that
any detector — DETR, OWLv2, or the shapes world's classical ``ShapeDetector`` (in :mod:`clipaware.eval`) —
plugs in unchanged.

A detector returns object labels and boxes only, never attributes such as colour: judging "red" is left to
CLIP on the box's crop, exactly as it must be with a real detector.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from clipaware.boxes import Box, centre, iou
from clipaware.errors import ModelNotAvailableError, UsageError
from clipaware.images import ImageSource, load_image
from clipaware.models.coco import coco_class
from clipaware.words import singular

DETR = "facebook/detr-resnet-50"
OWLV2 = "google/owlv2-base-patch16-ensemble"
NMS_IOU = 0.5


@dataclass(frozen=True)
class Detection:
    """One detected object: a label, the detector's confidence and its :data:`~clipaware.boxes.Box`."""

    label: str
    score: float
    box: Box

    @property
    def centre(self) -> tuple[float, float]:
        return centre(self.box)

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "score": round(float(self.score), 4),
            "box": [float(v) for v in self.box],
        }


@runtime_checkable
class Detector(Protocol):
    """Anything that finds labelled boxes; ``labels`` restricts (open-vocabulary models: sets) the classes."""

    def detect(self, image: ImageSource, labels: Sequence[str] | None = None) -> list[Detection]: ...


def nms(detections: Sequence[Detection], iou_threshold: float = NMS_IOU) -> list[Detection]:
    """Greedy non-maximum suppression per label: keep the best box, drop same-label boxes overlapping it.

    Detectors often fire twice on one object; without this a count route would over-count.
    """
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

    def detect(self, image: ImageSource, labels: Sequence[str] | None = None) -> list[Detection]:
        import torch

        pil = load_image(image)
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

    def detect(self, image: ImageSource, labels: Sequence[str] | None = None) -> list[Detection]:
        import torch

        if not labels:
            raise UsageError("an open-vocabulary detector needs the names of the things to find")
        pil = load_image(image)
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
    """``auto`` (by the nouns), ``detr``, ``owlv2``, or a model folder/hub name.

    The shapes world's ``ShapeDetector`` is a measuring instrument, not a product model: the command line
    builds it for ``--detector shapes`` (:mod:`clipaware.eval.shapes.detect`) and hands it down loaded.
    """
    kind = kind.strip()
    if kind == "auto":
        kind = choose_detector_name(nouns)
    if kind in ("detr", DETR):
        return DetrDetector()
    if kind in ("owlv2", OWLV2):
        return Owlv2Detector()
    from transformers import AutoConfig

    from clipaware.models.hub import model_folder

    folder = model_folder(kind, option="--detector")

    model_type = AutoConfig.from_pretrained(folder).model_type
    if model_type == "detr":
        return DetrDetector(kind)
    if model_type == "owlv2":
        return Owlv2Detector(kind)
    raise UsageError(f"--detector {kind}: expected auto, detr, owlv2, or a DETR/OWLv2 model")
