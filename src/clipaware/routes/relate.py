"""The relate route: does the subject stand in a spatial relation to the object?

CLIP scores "a cat left of a dog" and "a dog left of a cat" almost the same (What'sUp). Detection puts
boxes on both, and :mod:`clipaware.routes.geometry` decides the relation from them. With several
candidates the question is existential ("is there a red circle left of a blue square?"): any pair that
holds answers yes; otherwise an undecidable pair answers "can't tell"; only when every pair fails is
the answer no.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image

from clipaware.images import ImageSource, load_image
from clipaware.models.clip import ClipModel
from clipaware.models.detect import Detector
from clipaware.query import QueryAnalysis
from clipaware.routes.base import Refs, RouteAnswer, Step, Toolkit, alternatives, detector_models, ref_for
from clipaware.routes.geometry import RELATIONS, RelationResult, Verdict, relate
from clipaware.routes.regions import ObjectRef, Region, find


@dataclass(frozen=True)
class RelationAnswer:
    """The verdict, the pair of regions that decided it, and every candidate found."""

    subject: ObjectRef
    relation: str
    object: ObjectRef
    verdict: Verdict
    reason: str
    low_confidence: bool
    pair: tuple[Region, ...]
    subjects: tuple[Region, ...]
    objects: tuple[Region, ...]

    @property
    def holds(self) -> bool | None:
        return None if self.verdict is Verdict.UNKNOWN else self.verdict is Verdict.HOLDS

    def to_dict(self) -> dict[str, object]:
        return {
            "subject": self.subject.text,
            "relation": self.relation,
            "object": self.object.text,
            "verdict": self.verdict.value,
            "holds": self.holds,
            "reason": self.reason,
            "low_confidence": self.low_confidence,
            "pair": [r.to_dict() for r in self.pair],
            "subjects": [r.to_dict() for r in self.subjects],
            "objects": [r.to_dict() for r in self.objects],
        }


def _best(results: list[tuple[RelationResult, tuple[Region, ...]]]) -> tuple[RelationResult, tuple[Region, ...]]:
    for verdict in (Verdict.HOLDS, Verdict.UNKNOWN, Verdict.FAILS):
        for result, pair in results:
            if result.verdict is verdict:
                return result, pair
    raise ValueError("no pairs")


def relate_objects(
    image: ImageSource,
    subject: ObjectRef,
    relation: str,
    obj: ObjectRef,
    detector: Detector,
    *,
    model: ClipModel | None = None,
    alternatives: dict[str, Sequence[Sequence[str]]] | None = None,
    second: ObjectRef | None = None,
) -> RelationAnswer:
    """Decide ``subject relation obj`` (and ``second`` for "between") from detected boxes."""
    pil = load_image(image)
    alts = alternatives or {}
    subjects = [r for r in find(pil, subject, detector, model, alts.get(subject.text, ())) if r.matches]
    objects = [r for r in find(pil, obj, detector, model, alts.get(obj.text, ())) if r.matches]
    seconds = [r for r in find(pil, second, detector, model, alts.get(second.text, ())) if r.matches] if second else []

    def answer(verdict: Verdict, reason: str, low: bool = False, pair: tuple[Region, ...] = ()) -> RelationAnswer:
        return RelationAnswer(subject, relation, obj, verdict, reason, low, pair, tuple(subjects), tuple(objects))

    missing = [ref.text for ref, found in ((subject, subjects), (obj, objects)) if not found]
    if second is not None and not seconds:
        missing.append(second.text)
    if missing:
        return answer(Verdict.FAILS, "no " + " and no ".join(missing) + " detected")
    results = []
    for s in subjects:
        for o in objects:
            if s.detection is o.detection:
                continue  # "a circle left of a circle" needs two different circles
            if second is None:
                results.append((relate(relation, s.detection.box, o.detection.box), (s, o)))
            else:
                for t in seconds:
                    if t.detection is not o.detection and t.detection is not s.detection:
                        boxes = (s.detection.box, o.detection.box, t.detection.box)
                        results.append((relate(relation, *boxes), (s, o, t)))
    if not results:
        return answer(Verdict.FAILS, "only one matching object: nothing to relate it to")
    result, pair = _best(results)
    return answer(result.verdict, result.reason, result.low_confidence, pair)


# Relation words the analyzer emits that box geometry reads as one of its own relations.
RELATION_ALIASES = {"near": "next_to", "beside": "next_to", "on": "on_top_of", "over": "above", "beneath": "under"}


class RelateRoute:
    """ "a cat left of a dog", "a vase between two candles": the relation decided from detected boxes.

    It also plans an ``unsupported`` step for a relation no geometry checks, so the answer says so.
    """

    name = "relate"

    def plan(self, analysis: QueryAnalysis, refs: Refs, planned: Sequence[Step]) -> list[Step]:
        steps = []
        for rel in analysis.parse.relations:
            if rel.object == "frame":
                continue  # a place in the picture: the frame route's
            relation = RELATION_ALIASES.get(rel.relation, rel.relation)
            subject, obj = ref_for(rel.subject, refs), ref_for(rel.object, refs)
            if subject is None or obj is None or relation not in RELATIONS:
                steps.append(Step(UnsupportedRoute.name, {"relation": rel.relation}, rel.text))
                continue
            args: dict[str, Any] = {"subject": subject, "relation": relation, "object": obj}
            if relation == "between":
                args["second"] = obj  # "between two candles": two detections of the same noun
            steps.append(Step(self.name, args, rel.text))
        return steps

    def run(self, step: Step, image: Image.Image, kit: Toolkit) -> RouteAnswer:
        a = step.args
        refs = [a["subject"], a["object"]] + ([a["second"]] if "second" in a else [])
        nouns = [r.noun for r in refs]
        needs_clip = any(r.attributes for r in refs)
        result = relate_objects(
            image, a["subject"], a["relation"], a["object"], kit.detector(nouns),
            model=kit.clip if needs_clip else None, alternatives={r.text: alternatives(r) for r in refs},
            second=a.get("second"),
        )  # fmt: skip
        return RouteAnswer(
            self.name, step.text, result.holds, result.to_dict(), detector_models(kit, nouns, needs_clip), result
        )


class UnsupportedRoute:
    """A relation the analyzer found but no route checks yet: answered "can't tell", with the reason."""

    name = "unsupported"

    def plan(self, analysis: QueryAnalysis, refs: Refs, planned: Sequence[Step]) -> list[Step]:
        return []  # planned by the relate route, which meets these relations

    def run(self, step: Step, image: Image.Image, kit: Toolkit) -> RouteAnswer:
        reason = f"no route checks the relation '{step.args.get('relation')}' yet"
        return RouteAnswer(self.name, step.text, None, {"reason": reason}, ())
