"""``clipaware ask``: answer a question about an image through the route its limitations need.

analyse → plan → run → combine. The analyzer (text only) says which limitations a query hits and gives
its structure; :func:`plan` turns that structure into route steps (pure, testable without models);
:func:`ask` runs each step with the models it needs (loaded once, lazily) and combines the answers:
a number for "how many", otherwise yes/no (every step must hold; any "can't tell" without a "no" makes
the whole answer unknown). A query with no limitation goes to plain CLIP, calibrated against a null
distribution so that "no match" is a possible answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clipaware.errors import UsageError
from clipaware.lazy import Lazy, Shelf
from clipaware.models.detect import Detector, ImageInput, as_pil, load_detector
from clipaware.query import QueryAnalysis, analyze
from clipaware.query.tokens import singular
from clipaware.tasks.geometry import RELATIONS, Verdict, frame_region_name, in_frame
from clipaware.tasks.regions import ObjectRef, find, rivals_of

if TYPE_CHECKING:
    from clipaware.models.clip import ClipModel

# Relation words the analyzer emits that box geometry reads as one of its own relations.
RELATION_ALIASES = {"near": "next_to", "beside": "next_to", "on": "on_top_of", "over": "above", "beneath": "under"}
# Nouns that name the picture or a part of it, not something to detect.
FRAME_NOUNS = frozenset(
    {"photo", "picture", "image", "frame", "scene", "shot", "pic", "corner", "side", "left", "right", "top",
     "bottom", "center", "centre", "middle", "background", "foreground", "edge", "row"}
)  # fmt: skip
# Entity types that need a labelled gallery (fine-grained identity).
IDENTITY_TYPES = frozenset({"person", "make_model", "breed", "species", "artwork", "font", "identify"})


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
    """What one route answered, with the evidence and the models behind it."""

    route: str
    text: str
    answer: bool | int | str | None
    evidence: dict[str, Any]
    models: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "route": self.route,
            "text": self.text,
            "answer": self.answer,
            "models": list(self.models),
            **self.evidence,
        }


@dataclass(frozen=True)
class AskAnswer:
    """The combined answer to a query about one image."""

    query: str
    image: str
    answer: bool | int | str | None
    steps: tuple[RouteAnswer, ...]
    analysis: QueryAnalysis
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        return {
            "query": self.query,
            "image": self.image,
            "answer": self.answer,
            "routes": list(dict.fromkeys(s.route for s in self.steps)),
            "evidence": [s.to_dict() for s in self.steps],
            "analysis": self.analysis.to_dict(),
            "notes": list(self.notes),
        }


# ------------------------------------------------------------------------------------------- planning
def _noun_of(text: str) -> str:
    """The head noun of a mention text, singular ("many red circles" → "circle")."""
    words = re.findall(r"[a-z][a-z'-]*", text.lower())
    return singular(words[-1]) if words else text.lower()


def _refs(analysis: QueryAnalysis) -> dict[str, ObjectRef]:
    """Each mentioned object (by singular noun) with its attributes; first mention wins."""
    refs: dict[str, ObjectRef] = {}
    for mention in analysis.parse.objects:
        noun = _noun_of(mention.text)
        if noun in FRAME_NOUNS or not noun:
            continue
        attributes = tuple(a.value for a in mention.attributes if a.kind in ("color", "size", "material", "pattern"))
        refs.setdefault(noun, ObjectRef(noun, attributes))
    return refs


def _ref(noun: str | None, refs: dict[str, ObjectRef]) -> ObjectRef | None:
    if not noun:
        return None
    key = _noun_of(noun)
    return refs.get(key, ObjectRef(key))


def plan(analysis: QueryAnalysis) -> tuple[Step, ...]:
    """Route steps for an analysed query, in the order they are run."""
    parse = analysis.parse
    kinds = {lim.kind.value for lim in analysis.limitations}
    refs = _refs(analysis)
    steps: list[Step] = []
    for count in parse.counts:
        target = _ref(count.noun, refs)
        if target is not None:
            steps.append(Step("count", {"target": target, "op": count.op, "value": count.value}, count.text))
    frame_done: set[str] = set()
    for rel in parse.relations:
        if rel.object == "frame":
            position = frame_region_name(rel.relation)
            subject = _ref(rel.subject, refs) or next(iter(refs.values()), None)
            if position and subject and subject.noun not in frame_done:
                frame_done.add(subject.noun)
                steps.append(Step("frame", {"target": subject, "position": position}, rel.text))
            continue
        relation = RELATION_ALIASES.get(rel.relation, rel.relation)
        subject, obj = _ref(rel.subject, refs), _ref(rel.object, refs)
        if subject is None or obj is None or relation not in RELATIONS:
            steps.append(Step("unsupported", {"relation": rel.relation}, rel.text))
            continue
        args: dict[str, Any] = {"subject": subject, "relation": relation, "object": obj}
        if relation == "between":
            args["second"] = obj  # "between two candles": two detections of the same noun
        steps.append(Step("relate", args, rel.text))
    with_attributes = [r for r in refs.values() if r.attributes]
    # relate already judges each side's attributes on its own crop: binding is checked there
    related = {
        ref.noun for step in steps if step.route == "relate" for ref in (step.args["subject"], step.args["object"])
    }
    unbound = [r for r in with_attributes if r.noun not in related]
    if "compositional" in kinds and len(with_attributes) >= 2 and unbound:
        steps.append(Step("bind", {"phrases": with_attributes}, ", ".join(r.text for r in with_attributes)))
    for action in parse.actions:
        steps.append(
            Step("roles", {"subject": action.subject, "verb": action.verb, "object": action.object}, action.text)
        )
    for negated in parse.negated:
        target = _ref(negated.term, refs)
        if target is not None:
            steps.append(Step("negate", {"excluded": target}, negated.text))
    for entity in parse.entities:
        if entity.type in IDENTITY_TYPES:
            steps.append(Step("identify", {"entity": entity.text, "type": entity.type}, entity.text))
    if parse.negated:
        positive = analysis.query
        for negated in parse.negated:
            positive = positive.replace(negated.text, " ")
        positive = re.sub(r"\s+", " ", positive).strip(" ,.;")
        positive = re.sub(r"(\s+(with|and|but|or|without|of|in|on|that|has|have))+$", "", positive)
        if _content_words(positive):
            steps.append(Step("clip", {"text": positive}, positive))
    if not steps:
        steps.append(Step("clip", {"text": analysis.query}, analysis.query))
    return tuple(steps)


def _content_words(text: str) -> list[str]:
    generic = FRAME_NOUNS | {"a", "an", "the", "of", "with", "and", "in", "on", "at", "some", "any", "that", "is"}
    return [w for w in re.findall(r"[a-z]+", text.lower()) if w not in generic]


# ------------------------------------------------------------------------------------------ execution
class Toolkit:
    """The models a query may need, each loaded once and reused across steps and images.

    ``clip`` is a loaded :class:`~clipaware.models.clip.ClipModel`, or a :class:`~clipaware.lazy.Lazy` one
    (an opened library's, or the one a command will load only if a route needs it). Detectors (by name:
    ``auto``, ``detr``, ``owlv2``, ``shapes`` or a folder; or a loaded one) and the image-feature model for
    ``gallery`` are loaded on first need, once per ``shelf`` (the toolkit's own, or an opened library's,
    shared by its toolkits). Thread-safe.
    """

    def __init__(
        self,
        clip: ClipModel | Lazy[ClipModel],
        detector: str | Detector = "auto",
        gallery: str | Path | None = None,
        feature_model: str | None = None,
        *,
        shelf: Shelf | None = None,
    ) -> None:
        if isinstance(clip, (str, Path)) or clip is None:
            raise TypeError("Toolkit takes a loaded ClipModel (or a Lazy one), not a name: load it at the door")
        self._clip = clip if isinstance(clip, Lazy) else Lazy.of(clip)
        self._detector_choice, self.gallery_dir, self.feature_name = detector, gallery, feature_model
        self._shelf = shelf if shelf is not None else Shelf()  # an opened library shares one across toolkits

    @property
    def clip(self) -> ClipModel:
        return self._clip.get()

    def detector(self, nouns: Sequence[str]) -> Detector:
        if not isinstance(self._detector_choice, str):
            return self._detector_choice
        from clipaware.models.detect import DETR, OWLV2, choose_detector_name

        key = self._detector_choice.strip()
        key = choose_detector_name(nouns) if key == "auto" else {"detr": DETR, "owlv2": OWLV2}.get(key, key)
        return self._shelf.get(("detector", key), lambda: load_detector(key, nouns))

    def detector_name(self, nouns: Sequence[str]) -> str:
        det = self.detector(nouns)
        return getattr(det, "name", type(det).__name__)

    def gallery(self) -> tuple[Any, Any]:
        from clipaware.models.features import FeatureModel
        from clipaware.tasks.identify import build_gallery

        features = self._shelf.get(("features", self.feature_name), lambda: FeatureModel.load(self.feature_name))
        key = ("gallery", str(self.gallery_dir), self.feature_name)
        gallery = self._shelf.get(key, lambda: build_gallery(self.gallery_dir, features))  # type: ignore[arg-type]
        return features, gallery


def _alternatives(ref: ObjectRef) -> list[tuple[str, ...]]:
    return [rivals_of(a) for a in ref.attributes]


def _verdict_answer(verdict: Verdict) -> bool | None:
    return None if verdict is Verdict.UNKNOWN else verdict is Verdict.HOLDS


def run_step(step: Step, image: Any, kit: Toolkit) -> RouteAnswer:
    """Run one planned step on a decoded image."""
    from clipaware.tasks.bind import bind_attributes
    from clipaware.tasks.count import count_objects
    from clipaware.tasks.negate import check_absent
    from clipaware.tasks.relate import relate_objects

    a = step.args
    if step.route == "count":
        target = a["target"]
        det = kit.detector([target.noun])
        model = kit.clip if target.attributes else None
        result = count_objects(
            image, target, det, model=model, alternatives=_alternatives(target), op=a["op"], value=a["value"]
        )
        answer: Any = result.count if a["op"] == "ask" else result.holds
        models = (kit.detector_name([target.noun]),) + ((kit.clip.name,) if model else ())
        return RouteAnswer("count", step.text, answer, result.to_dict(), models)
    if step.route == "relate":
        refs = [a["subject"], a["object"]] + ([a["second"]] if "second" in a else [])
        nouns = [r.noun for r in refs]
        needs_clip = any(r.attributes for r in refs)
        rel = relate_objects(
            image,
            a["subject"],
            a["relation"],
            a["object"],
            kit.detector(nouns),
            model=kit.clip if needs_clip else None,
            alternatives={r.text: _alternatives(r) for r in refs},
            second=a.get("second"),
        )
        models = (kit.detector_name(nouns),) + ((kit.clip.name,) if needs_clip else ())
        return RouteAnswer("relate", step.text, rel.holds, rel.to_dict(), models)
    if step.route == "frame":
        target = a["target"]
        regions = [r for r in find(image, target, kit.detector([target.noun]), kit.clip if target.attributes else None,
                                   _alternatives(target)) if r.matches]  # fmt: skip
        results = [in_frame(a["position"], r.detection.box, image.size) for r in regions]
        verdicts = [res.verdict for res in results]
        verdict = (
            Verdict.HOLDS if Verdict.HOLDS in verdicts else Verdict.UNKNOWN if Verdict.UNKNOWN in verdicts
            else Verdict.FAILS
        )  # fmt: skip
        reason = results[verdicts.index(verdict)].reason if results else f"no {target.text} detected"
        evidence = {"position": a["position"], "verdict": verdict.value, "reason": reason,
                    "regions": [r.to_dict() for r in regions]}  # fmt: skip
        return RouteAnswer("frame", step.text, _verdict_answer(verdict), evidence, (kit.detector_name([target.noun]),))
    if step.route == "bind":
        phrases = a["phrases"]
        nouns = [p.noun for p in phrases]
        rivals = {attr: rivals_of(attr) for p in phrases for attr in p.attributes}
        result = bind_attributes(image, phrases, kit.detector(nouns), kit.clip, rivals)
        return RouteAnswer("bind", step.text, result.holds, result.to_dict(), (kit.detector_name(nouns), kit.clip.name))
    if step.route == "negate":
        target = a["excluded"]
        model = kit.clip if target.attributes else None
        result = check_absent(
            image, target, kit.detector([target.noun]), model=model, alternatives=_alternatives(target)
        )
        models = (kit.detector_name([target.noun]),) + ((kit.clip.name,) if model else ())
        return RouteAnswer("negate", step.text, result.holds, result.to_dict(), models)
    if step.route == "roles":
        return _roles(step, image, kit)
    if step.route == "identify":
        return _identify(step, image, kit)
    if step.route == "clip":
        from clipaware.tasks.calibrate import calibrated_scores

        score = calibrated_scores(kit.clip, kit.clip.embed_pil([image])[0], [a["text"]])[0]
        answer = (score.verdict == "match") if score.calibrated else None  # no null to judge by: can't tell
        return RouteAnswer("clip", step.text, answer, score.to_dict(), (kit.clip.name,))
    reason = f"no route checks the relation '{a.get('relation')}' yet"
    return RouteAnswer(step.route, step.text, None, {"reason": reason}, ())


def _roles(step: Step, image: Any, kit: Toolkit) -> RouteAnswer:
    """Who does what to whom: CLIP compared with the role-swapped sentence; always low confidence.

    No detector sees roles. The honest fallback is a contrast: if CLIP cannot separate "a cat chasing a
    dog" from "a dog chasing a cat" by a clear margin, the answer is "can't tell".
    """
    a = step.args
    forward = f"a photo of a {a['subject']} {a['verb']}ing a {a['object']}."
    backward = f"a photo of a {a['object']} {a['verb']}ing a {a['subject']}."
    model = kit.clip
    sims = model.encode_texts([forward, backward]) @ model.embed_pil([image])[0]
    margin = float(sims[0] - sims[1])
    answer = None if abs(margin) < 0.01 else margin > 0
    evidence = {"query_similarity": round(float(sims[0]), 4), "swapped_similarity": round(float(sims[1]), 4),
                "low_confidence": True, "swapped": backward}  # fmt: skip
    return RouteAnswer("roles", step.text, answer, evidence, (model.name,))


def _identify(step: Step, image: Any, kit: Toolkit) -> RouteAnswer:
    from clipaware.tasks.identify import GALLERY_HELP, identify

    if kit.gallery_dir is None:
        reason = f"'{step.args['entity']}' is a fine-grained identity that CLIP cannot verify; {GALLERY_HELP}"
        return RouteAnswer("identify", step.text, None, {"reason": reason}, ())
    features, gallery = kit.gallery()
    result = identify(image, gallery, features)
    asked = step.args["entity"].lower()
    if step.args["type"] == "identify":  # "who is this?": the answer is the label
        answer: Any = result.label
    else:
        answer = result.label.lower().replace("_", " ") in asked or asked in result.label.lower().replace("_", " ")
    return RouteAnswer("identify", step.text, answer, result.to_dict(), (features.name,))


def combine(steps: Sequence[RouteAnswer]) -> bool | int | str | None:
    """A count for "how many" (or a label for "who"), else all-must-hold yes/no with "can't tell"."""
    for step in steps:
        if step.route == "count" and isinstance(step.answer, int) and not isinstance(step.answer, bool):
            return step.answer
        if step.route == "identify" and isinstance(step.answer, str):
            return step.answer
    answers = [s.answer for s in steps]
    if any(x is False for x in answers):
        return False
    if any(x is None for x in answers):
        return None
    return True


def ask(image: ImageInput, query: str, *, kit: Toolkit) -> AskAnswer:
    """Answer ``query`` about ``image`` through the routes its limitations need, with ``kit``'s models."""
    analysis = analyze(query)
    if not analysis.query.strip():
        raise UsageError("the question is empty")
    pil = as_pil(image)
    steps = tuple(run_step(step, pil, kit) for step in plan(analysis))
    notes = tuple(w for w in analysis.parse.warnings)
    name = str(image) if isinstance(image, (str, Path)) else "<image>"
    return AskAnswer(analysis.query, name, combine(steps), steps, analysis, notes)
