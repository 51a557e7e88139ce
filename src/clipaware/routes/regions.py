"""Region-level scoring: judging attributes on a detector's boxes with CLIP.

Detectors name objects but not their colour or material; CLIP knows "red" but not *which* object is red.
Scoring each box's crop separately (the ReCLIP idea) gives CLIP one object at a time, so the attribute
it sees is the attribute of that object. An attribute is judged as a zero-shot choice among its
alternatives ("a red circle" vs "a blue circle" vs …), which is far better calibrated than a lone score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from clipaware.images import ImageSource, load_image
from clipaware.models.clip import ClipModel
from clipaware.models.detect import Detection, Detector
from clipaware.words import singular

CROP_CONTEXT = 0.15  # fraction of the box size added around it: a little context helps CLIP name things
PAD_COLOUR = (124, 116, 104)  # CLIP's mean pixel: padding that reads as "nothing" after normalisation
ATTRIBUTE_THRESHOLD = 0.5


@dataclass(frozen=True)
class ObjectRef:
    """An object as a query names it: a noun and the attributes bound to it ("red", "small")."""

    noun: str
    attributes: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return " ".join((*self.attributes, self.noun))


@dataclass(frozen=True)
class Region:
    """A detection with the probability that it carries the asked attributes (1.0 when none are asked)."""

    detection: Detection
    attribute_probability: float

    @property
    def matches(self) -> bool:
        return self.attribute_probability >= ATTRIBUTE_THRESHOLD

    def to_dict(self) -> dict[str, object]:
        return {**self.detection.to_dict(), "attribute_probability": round(self.attribute_probability, 4)}


# The basic colour terms (Berlin & Kay): rivals for a colour, rather than every shade the lexicon knows,
# so that "red" competes with "orange" and "blue" but not with "crimson".
BASIC_COLOURS = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "brown", "black", "white", "gray")


SMALL_WORDS = frozenset({"small", "little", "tiny", "mini", "miniature"})
LARGE_WORDS = frozenset({"large", "big", "huge", "giant", "enormous", "massive", "oversized", "gigantic"})


def rivals_of(attribute: str) -> tuple[str, ...]:
    """The values an attribute competes with when judged on a crop: the others of its class.

    Classes come from the analyzer's attribute lexicon (colour, size, material, …); a colour competes
    with the basic colour terms. An unknown word competes with nothing and is judged against itself
    alone, which :func:`attribute_probability` treats as certain.
    """
    from clipaware.query.lexicons import read_rows

    classes = {row[0].lower(): row[1] for row in read_rows("attributes.txt") if len(row) > 1}
    kind = classes.get(attribute.lower())
    if kind is None:
        return ()
    word = attribute.lower()
    if kind == "color":
        return tuple(c for c in BASIC_COLOURS if c != word)
    if word in SMALL_WORDS:  # sizes compete with the opposite pole, never with their synonyms
        return ("large",)
    if word in LARGE_WORDS:
        return ("small",)
    # other classes (materials, patterns…): every other value, minus spelling variants of this one
    return tuple(w for w, k in classes.items() if k == kind and w[:4] != word[:4])


def crop(image: Image.Image, box: Sequence[float], context: float = CROP_CONTEXT) -> Image.Image:
    """A square crop centred on ``box`` with some context, padded (not stretched) where it leaves the image."""
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0) * (1 + 2 * context)
    side = max(side, 4.0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left, top = round(cx - side / 2), round(cy - side / 2)
    size = round(side)
    canvas = Image.new("RGB", (size, size), PAD_COLOUR)
    region = image.crop((max(0, left), max(0, top), min(image.width, left + size), min(image.height, top + size)))
    canvas.paste(region, (max(0, -left), max(0, -top)))
    return canvas


def phrase_probabilities(model: ClipModel, crops: Sequence[Image.Image], phrases: Sequence[str]) -> np.ndarray:
    """``(n_crops, n_phrases)``: each crop's probability over the phrases (the model's own scoring)."""
    if not crops or not phrases:
        return np.zeros((len(crops), len(phrases)), np.float32)
    texts = model.encode_texts([f"a photo of a {p}." for p in phrases])
    logits = model.logits(model.encode_images(list(crops)), texts)
    if model.uses_sigmoid:  # independent scores: normalise them into a choice among the phrases
        probs = model.probabilities(logits)
        return probs / np.clip(probs.sum(axis=1, keepdims=True), 1e-12, None)
    return model.probabilities(logits)


def attribute_probability(
    model: ClipModel,
    image: Image.Image,
    detections: Sequence[Detection],
    target: ObjectRef,
    alternatives: Sequence[Sequence[str]],
) -> list[float]:
    """P(each detection carries all of ``target.attributes``), one zero-shot choice per attribute.

    ``alternatives[i]`` are the rival values of ``target.attributes[i]`` (e.g. the other colours).
    """
    if not target.attributes or not detections:
        return [1.0] * len(detections)
    crops = [crop(image, d.box) for d in detections]
    noun = singular(target.noun)
    total = np.ones(len(detections))
    for attribute, rivals in zip(target.attributes, alternatives, strict=True):
        # a rival the model cannot read (unknown to a word-level tokenizer) would only add noise
        options = [attribute, *[r for r in rivals if r != attribute and model.knows(r)]]
        probs = phrase_probabilities(model, crops, [f"{o} {noun}" for o in options])
        total *= probs[:, 0]
    return [float(p) for p in total]


def find(
    image: ImageSource,
    target: ObjectRef,
    detector: Detector,
    model: ClipModel | None = None,
    alternatives: Sequence[Sequence[str]] = (),
) -> list[Region]:
    """Detections of ``target.noun`` with the probability that each has ``target.attributes``."""
    pil = load_image(image)
    detections = detector.detect(pil, [target.noun])
    if target.attributes and model is None:
        raise ValueError("judging attributes needs a CLIP model")
    probs = attribute_probability(model, pil, detections, target, alternatives) if model else [1.0] * len(detections)
    return [Region(d, p) for d, p in zip(detections, probs, strict=True)]
