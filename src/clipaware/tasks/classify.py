"""Zero-shot classification with a prompt ensemble and the model's own scoring.

Single-label: CLIP's logits (learned scale × cosine) go through a softmax over the labels, so the
probabilities sum to 1; SigLIP was trained with a per-pair sigmoid, so its scores stay independent.
Multi-label (``--multi-label``): every label gets its own probability. SigLIP gives that natively; for
CLIP each label is contrasted with a background made of generic captions ("a photo.", "an image."…):
P(label) is the two-way softmax of the label's logit against the background's, i.e. how much more the
image looks like the label than like an arbitrary photo.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from clipaware.errors import ImageLoadError, UsageError
from clipaware.images import ImageSource, Skipped, load_image
from clipaware.models.clip import ClipModel
from clipaware.tasks.prompts import GENERIC_CAPTIONS, TEMPLATES


@dataclass(frozen=True)
class ImageScores:
    """The probabilities for one image, labels in the order given."""

    image: str
    scores: dict[str, float]

    @property
    def best(self) -> str:
        return max(self.scores, key=self.scores.__getitem__)

    def to_dict(self) -> dict[str, object]:
        return {"image": self.image, "scores": {k: round(v, 6) for k, v in self.scores.items()}}


@dataclass(frozen=True)
class Classification:
    """All classified images plus every image that could not be read, with why."""

    labels: tuple[str, ...]
    multi_label: bool
    results: tuple[ImageScores, ...]
    skipped: tuple[Skipped, ...]

    def to_dict(self) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = [r.to_dict() for r in self.results]
        rows += [{"image": s.path, "error": s.reason} for s in self.skipped]
        return rows


def parse_labels(text: str) -> tuple[str, ...]:
    """``"cat, dog,,cat"`` → ``("cat", "dog")``: comma-separated, trimmed, de-duplicated in order."""
    labels = [part.strip() for part in text.split(",")]
    return tuple(dict.fromkeys(label for label in labels if label))


def ensemble_embeddings(model: ClipModel, labels: Sequence[str], templates: Sequence[str] = TEMPLATES) -> np.ndarray:
    """One unit vector per label: the re-normalised mean of its templated captions' embeddings."""
    texts = [template.format(label) for label in labels for template in templates]
    vectors = model.encode_texts(texts).reshape(len(labels), len(templates), -1).mean(axis=1)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def label_probabilities(
    model: ClipModel, image_vectors: np.ndarray, labels: Sequence[str], multi_label: bool
) -> np.ndarray:
    """``(n_images, n_labels)`` probabilities; see the module docstring for the scoring rules."""
    logits = model.logits(image_vectors, ensemble_embeddings(model, labels))
    if model.uses_sigmoid or not multi_label:
        return model.probabilities(logits)
    background = model.encode_texts(list(GENERIC_CAPTIONS)).mean(axis=0)
    background /= np.linalg.norm(background)
    bg_logit = model.logits(image_vectors, background[None, :])  # (n, 1)
    return 1.0 / (1.0 + np.exp(-(logits - bg_logit)))


def classify(
    model: ClipModel,
    images: Sequence[ImageSource],
    labels: Sequence[str],
    *,
    multi_label: bool = False,
) -> Classification:
    """Classify each image into ``labels``; unreadable images are reported, not fatal."""
    labels = tuple(labels)
    if not labels:
        raise UsageError("give the labels to choose from, e.g. --labels cat,dog,bird")
    if len(labels) < 2 and not multi_label and not model.uses_sigmoid:
        raise UsageError("a softmax over one label is always 1: give two or more labels, or use --multi-label")
    decoded, names, skipped = [], [], []
    for item in images:
        name = str(item) if not hasattr(item, "size") else "<image>"
        try:
            decoded.append(load_image(item, model.image_size))
            names.append(name)
        except ImageLoadError as exc:
            skipped.append(Skipped(name, exc.reason))
    results: list[ImageScores] = []
    if decoded:
        probs = label_probabilities(model, model.encode_images(decoded), labels, multi_label)
        results = [
            ImageScores(name, {label: float(p) for label, p in zip(labels, row, strict=True)})
            for name, row in zip(names, probs, strict=True)
        ]
    return Classification(labels, multi_label or model.uses_sigmoid, tuple(results), tuple(skipped))
