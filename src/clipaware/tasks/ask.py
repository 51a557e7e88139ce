"""``clipaware ask``: answer a question about an image through the route its limitations need.

analyse → plan → run → combine. The analyzer (text only) says which limitations a query hits and gives
its structure; the route table (:mod:`clipaware.routes`) turns that structure into steps (pure, testable
without models) and runs each step with the models a :class:`Toolkit` loads once, lazily; :func:`combine`
makes one answer of them: a number for "how many", otherwise yes/no (every step must hold; any "can't tell"
without a "no" makes the whole answer unknown). A query with no limitation goes to plain CLIP, calibrated
against a null distribution so that "no match" is a possible answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clipaware import routes
from clipaware.errors import UsageError
from clipaware.images import ImageSource, load_image
from clipaware.lazy import Lazy, Shelf
from clipaware.models.detect import Detector, load_detector
from clipaware.query import QueryAnalysis, analyze
from clipaware.routes import RouteAnswer

if TYPE_CHECKING:
    from clipaware.models.clip import ClipModel


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
        from clipaware.routes.identify import build_gallery

        features = self._shelf.get(("features", self.feature_name), lambda: FeatureModel.load(self.feature_name))
        key = ("gallery", str(self.gallery_dir), self.feature_name)
        gallery = self._shelf.get(key, lambda: build_gallery(self.gallery_dir, features))  # type: ignore[arg-type]
        return features, gallery


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


def ask(image: ImageSource, query: str, *, kit: Toolkit) -> AskAnswer:
    """Answer ``query`` about ``image`` through the routes its limitations need, with ``kit``'s models.

    analyse → plan → run → combine: the route table plans steps from the parse and runs each one.
    """
    analysis = analyze(query)
    if not analysis.query.strip():
        raise UsageError("the question is empty")
    pil = load_image(image)
    steps = tuple(routes.run(step, pil, kit) for step in routes.plan(analysis))
    notes = tuple(w for w in analysis.parse.warnings)
    name = str(image) if isinstance(image, (str, Path)) else "<image>"
    return AskAnswer(analysis.query, name, combine(steps), steps, analysis, notes)
