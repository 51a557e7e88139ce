"""What every route shares: the planned :class:`Step`, the :class:`RouteAnswer`, and the protocols.

A route is one way to answer what CLIP alone cannot (count, relate, frame, bind, negate, roles, identify)
or plain calibrated CLIP. Each is one object with a ``name``, a ``plan`` that reads the analyzer's parse
(text only, no model) and a ``run`` that answers one planned step on a decoded image with the models a
:class:`Toolkit` hands it. ``ask`` and the evaluation harness both go through these objects (see
:mod:`clipaware.routes` for the registry), so what is measured is what users run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from PIL import Image

from clipaware.models.detect import Detector
from clipaware.query import QueryAnalysis
from clipaware.query.lexicon import get_lexicon
from clipaware.routes.geometry import Verdict
from clipaware.routes.regions import ObjectRef, Region, find, rivals_of
from clipaware.words import singular

# The objects a query mentions, by singular noun ("circle" → ObjectRef("circle", ("red",))).
Refs = Mapping[str, ObjectRef]


@dataclass(frozen=True)
class Step:
    """One route to run: ``route`` names it, ``args`` carry what the route needs (refs, relation, …)."""

    route: str
    args: dict[str, Any]
    text: str  # the words of the query this step answers

    def to_dict(self) -> dict[str, object]:
        def plain(value: Any) -> Any:
            if isinstance(value, ObjectRef):
                return value.text
            if isinstance(value, (list, tuple)):
                return [plain(v) for v in value]
            return value

        return {"route": self.route, "text": self.text, **{k: plain(v) for k, v in self.args.items()}}


@dataclass(frozen=True)
class RouteAnswer:
    """What one route answered, with the evidence and the models behind it.

    ``result`` is the route's own typed result (a ``CountAnswer``, ``RelationAnswer``, …) for callers that
    need exact numbers rather than the rounded evidence; it is not part of ``to_dict``.
    """

    route: str
    text: str
    answer: bool | int | str | None
    evidence: dict[str, Any]
    models: tuple[str, ...]
    result: Any = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, object]:
        return {
            "route": self.route,
            "text": self.text,
            "answer": self.answer,
            "models": list(self.models),
            **self.evidence,
        }


@runtime_checkable
class Toolkit(Protocol):
    """The models a route may need, loaded once and reused across steps and images."""

    gallery_dir: Any

    @property
    def clip(self) -> Any: ...

    def detector(self, nouns: Sequence[str]) -> Detector: ...

    def detector_name(self, nouns: Sequence[str]) -> str: ...

    def gallery(self) -> tuple[Any, Any]: ...


@runtime_checkable
class Route(Protocol):
    """One way to answer part of a query: plan steps from the parse, run one step on an image."""

    name: str

    def plan(self, analysis: QueryAnalysis, refs: Refs, planned: Sequence[Step]) -> list[Step]:
        """Steps for this route, given the query's objects and the steps the routes before it planned."""
        ...

    def run(self, step: Step, image: Image.Image, kit: Toolkit) -> RouteAnswer: ...


def query_refs(analysis: QueryAnalysis) -> dict[str, ObjectRef]:
    """Each object the query mentions (by singular noun) with its attributes; first mention wins.

    Nouns for the picture or a part of it ("photo", "corner", "left side") are not objects to detect.
    """
    picture_words = get_lexicon().picture_words
    refs: dict[str, ObjectRef] = {}
    for mention in analysis.parse.objects:
        noun = noun_of(mention.text)
        if noun in picture_words or not noun:
            continue
        attributes = tuple(a.value for a in mention.attributes if a.kind in ("color", "size", "material", "pattern"))
        refs.setdefault(noun, ObjectRef(noun, attributes))
    return refs


def noun_of(text: str) -> str:
    """The head noun of a mention text, singular ("many red circles" → "circle")."""
    words = re.findall(r"[a-z][a-z'-]*", text.lower())
    return singular(words[-1]) if words else text.lower()


def ref_for(noun: str | None, refs: Refs) -> ObjectRef | None:
    """The mentioned object for a noun (with its attributes), or a bare one; ``None`` for no noun."""
    if not noun:
        return None
    key = noun_of(noun)
    return refs.get(key, ObjectRef(key))


def alternatives(ref: ObjectRef) -> list[tuple[str, ...]]:
    """The rival values of each of ``ref``'s attributes, in order (what CLIP chooses among on a crop)."""
    return [rivals_of(a) for a in ref.attributes]


def verdict_answer(verdict: Verdict) -> bool | None:
    return None if verdict is Verdict.UNKNOWN else verdict is Verdict.HOLDS


def locate(image: Image.Image, ref: ObjectRef, kit: Toolkit) -> tuple[list[Region], tuple[str, ...]]:
    """Detections of ``ref``'s noun, each with the probability that it has ``ref``'s attributes (judged by
    CLIP on its crop, when any are asked), and the names of the models that took part."""
    model = kit.clip if ref.attributes else None
    regions = find(image, ref, kit.detector([ref.noun]), model, alternatives(ref))
    return regions, detector_models(kit, [ref.noun], model is not None)


def detector_models(kit: Toolkit, nouns: Sequence[str], with_clip: bool) -> tuple[str, ...]:
    """The names of the models a detector route used: the detector, and CLIP when it judged attributes."""
    return (kit.detector_name(nouns),) + ((kit.clip.name,) if with_clip else ())
