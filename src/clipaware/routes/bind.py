"""The bind route: are the attributes bound to the right objects ("a red circle and a blue square")?

CLIP sees "red, blue, circle, square" as one bag and scores the swapped caption ("a blue circle and a
red square") about the same (Winoground, SugarCrepe swap-attribute). Region scoring gives each object
its own CLIP judgement: every phrase ("red circle") is scored against the crop of every detected object
of its noun, phrases are matched one-to-one to regions by the Hungarian algorithm (maximum joint
log-probability), and the query's binding is compared with the swapped one on the same regions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from clipaware.images import ImageSource, load_image
from clipaware.models.clip import ClipModel
from clipaware.models.detect import Detection, Detector
from clipaware.query import QueryAnalysis
from clipaware.routes.base import Refs, RouteAnswer, Step, Toolkit, detector_models
from clipaware.routes.regions import ATTRIBUTE_THRESHOLD, ObjectRef, Region, attribute_probability, rivals_of
from clipaware.words import singular

IMPOSSIBLE = 1e6  # cost of giving a phrase a region of another noun


@dataclass(frozen=True)
class Binding:
    """One phrase matched to one region (or to none), with the probability of its attributes there."""

    phrase: str
    region: Region | None

    def to_dict(self) -> dict[str, object]:
        return {"phrase": self.phrase, "region": self.region.to_dict() if self.region else None}


@dataclass(frozen=True)
class BindAnswer:
    """Whether the query's binding holds, with its score against the swapped binding's on the same boxes."""

    phrases: tuple[ObjectRef, ...]
    holds: bool
    log_score: float
    swapped_log_score: float
    bindings: tuple[Binding, ...]
    reason: str

    @property
    def prefers_query(self) -> bool:
        return self.log_score >= self.swapped_log_score

    def to_dict(self) -> dict[str, object]:
        return {
            "phrases": [p.text for p in self.phrases],
            "holds": self.holds,
            "log_score": round(self.log_score, 4),
            "swapped_log_score": round(self.swapped_log_score, 4),
            "prefers_query": self.prefers_query,
            "bindings": [b.to_dict() for b in self.bindings],
            "reason": self.reason,
        }


def swapped(phrases: Sequence[ObjectRef]) -> tuple[ObjectRef, ...]:
    """The nouns with their attribute lists rotated by one: "red circle, blue square" → "blue circle, red square"."""
    attrs = [p.attributes for p in phrases]
    rotated = attrs[-1:] + attrs[:-1]
    return tuple(ObjectRef(p.noun, a) for p, a in zip(phrases, rotated, strict=True))


def _match(
    model: ClipModel,
    image,
    phrases: Sequence[ObjectRef],
    detections: Sequence[Detection],
    rivals: dict[str, Sequence[str]],
) -> tuple[float, list[Binding]]:
    from scipy.optimize import linear_sum_assignment

    probs = np.zeros((len(phrases), len(detections)))
    for i, phrase in enumerate(phrases):
        same_noun = [j for j, d in enumerate(detections) if singular(d.label) == singular(phrase.noun)]
        alternatives = [rivals.get(a, ()) for a in phrase.attributes]
        scores = attribute_probability(model, image, [detections[j] for j in same_noun], phrase, alternatives)
        for j, p in zip(same_noun, scores, strict=True):
            probs[i, j] = p
    cost = np.where(probs > 0, -np.log(np.clip(probs, 1e-9, 1.0)), IMPOSSIBLE)
    rows, cols = linear_sum_assignment(cost) if detections else ([], [])
    bindings = [Binding(p.text, None) for p in phrases]
    total = 0.0
    for i, j in zip(rows, cols, strict=True):
        if cost[i, j] < IMPOSSIBLE:
            bindings[i] = Binding(phrases[i].text, Region(detections[j], float(probs[i, j])))
            total += math.log(max(float(probs[i, j]), 1e-9))
    total += math.log(1e-9) * sum(b.region is None for b in bindings)
    return total, bindings


def bind_attributes(
    image: ImageSource,
    phrases: Sequence[ObjectRef],
    detector: Detector,
    model: ClipModel,
    rivals: dict[str, Sequence[str]],
) -> BindAnswer:
    """Decide whether each phrase's attributes sit on a distinct detected object of its noun.

    ``rivals`` maps each attribute to its alternatives (e.g. "red" → the other colours).
    """
    pil = load_image(image)
    nouns = list(dict.fromkeys(p.noun for p in phrases))
    detections = detector.detect(pil, nouns)
    score, bindings = _match(model, pil, phrases, detections, rivals)
    swapped_score, _ = _match(model, pil, swapped(phrases), detections, rivals)
    unmatched = [b.phrase for b in bindings if b.region is None]
    weak = [b.phrase for b in bindings if b.region is not None and b.region.attribute_probability < ATTRIBUTE_THRESHOLD]
    holds = not unmatched and not weak
    if unmatched:
        reason = "no distinct object for: " + ", ".join(unmatched)
    elif weak:
        reason = "attributes not seen on their objects: " + ", ".join(weak)
    else:
        reason = "every phrase sits on its own object with its attributes"
    return BindAnswer(tuple(phrases), holds, score, swapped_score, tuple(bindings), reason)


class BindRoute:
    """ "a red circle and a blue square": each phrase on its own object, against the swapped binding.

    Planned only when the analyzer flags the query compositional and some object with attributes is not
    already judged by a relate step (relate checks each side's attributes on its own crop).
    """

    name = "bind"

    def plan(self, analysis: QueryAnalysis, refs: Refs, planned: Sequence[Step]) -> list[Step]:
        with_attributes = [r for r in refs.values() if r.attributes]
        related = {
            ref.noun
            for step in planned
            if step.route == "relate"
            for ref in (step.args["subject"], step.args["object"])
        }
        unbound = [r for r in with_attributes if r.noun not in related]
        if not (analysis.has("compositional") and len(with_attributes) >= 2 and unbound):
            return []
        return [Step(self.name, {"phrases": with_attributes}, ", ".join(r.text for r in with_attributes))]

    def run(self, step: Step, image: Image.Image, kit: Toolkit) -> RouteAnswer:
        phrases = step.args["phrases"]
        nouns = [p.noun for p in phrases]
        rivals = {attr: rivals_of(attr) for p in phrases for attr in p.attributes}
        result = bind_attributes(image, phrases, kit.detector(nouns), kit.clip, rivals)
        models = detector_models(kit, nouns, with_clip=True)
        return RouteAnswer(self.name, step.text, result.holds, result.to_dict(), models, result)
