"""The negate route: is the excluded thing really absent ("a street with no cars")?

CLIP's text encoder barely reads "no": "a street with no cars" lands near pictures of streets *with*
cars (NegBench). Detection turns the question around: look for the excluded thing; if nothing matching
it is found (above the detector's threshold, with the asked attributes), the negation holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from clipaware.query import QueryAnalysis
from clipaware.routes.base import Refs, RouteAnswer, Step, Toolkit, locate, ref_for
from clipaware.routes.regions import ObjectRef, Region


@dataclass(frozen=True)
class NegationAnswer:
    """Holds when no region matching the excluded thing was found; the found ones are the evidence."""

    excluded: ObjectRef
    holds: bool
    found: tuple[Region, ...]

    def to_dict(self) -> dict[str, object]:
        return {"excluded": self.excluded.text, "holds": self.holds, "found": [r.to_dict() for r in self.found]}


def check_absent(excluded: ObjectRef, regions: Sequence[Region]) -> NegationAnswer:
    """The negation holds when no detected region carries ``excluded``'s attributes."""
    found = tuple(r for r in regions if r.matches)
    return NegationAnswer(excluded, not found, found)


class NegateRoute:
    """ "a beach with no people": look for the excluded thing; the negation holds when none is found."""

    name = "negate"

    def plan(self, analysis: QueryAnalysis, refs: Refs, planned: Sequence[Step]) -> list[Step]:
        targets = [(ref_for(negated.term, refs), negated.text) for negated in analysis.parse.negated]
        return [Step(self.name, {"excluded": target}, text) for target, text in targets if target is not None]

    def run(self, step: Step, image: Image.Image, kit: Toolkit) -> RouteAnswer:
        target = step.args["excluded"]
        regions, models = locate(image, target, kit)
        result = check_absent(target, regions)
        return RouteAnswer(self.name, step.text, result.holds, result.to_dict(), models, result)
