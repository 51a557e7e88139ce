"""The count route: how many X are there, and does that satisfy "exactly / at least / at most N"?

CLIP's one vector has no slot for "how many": on CountBench-style tests it is close to chance. A
detector returns one box per object; after its score threshold and non-maximum suppression, counting is
``len``. Attributes ("red circles") are judged per box by CLIP on the box's crop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from clipaware.errors import UsageError
from clipaware.query import QueryAnalysis
from clipaware.routes.base import Refs, RouteAnswer, Step, Toolkit, locate, ref_for
from clipaware.routes.regions import ObjectRef, Region

OPERATORS = ("ask", "exact", "at_least", "at_most", "approx")


@dataclass(frozen=True)
class CountAnswer:
    """The count, whether the constraint holds (None for a plain "how many"), and the boxes counted."""

    target: ObjectRef
    count: int
    op: str
    value: int | None
    holds: bool | None
    counted: tuple[Region, ...]
    rejected: tuple[Region, ...]  # detections of the noun whose attributes did not match

    def to_dict(self) -> dict[str, object]:
        return {
            "target": self.target.text,
            "count": self.count,
            "op": self.op,
            "value": self.value,
            "holds": self.holds,
            "counted": [r.to_dict() for r in self.counted],
            "rejected": [r.to_dict() for r in self.rejected],
        }


def satisfies(count: int, op: str, value: int | None) -> bool | None:
    """Whether ``count`` meets the constraint; "approx" allows ±max(1, 20 %)."""
    if op == "ask" or value is None:
        return None
    if op == "exact":
        return count == value
    if op == "at_least":
        return count >= value
    if op == "at_most":
        return count <= value
    if op == "approx":
        return abs(count - value) <= max(1, round(0.2 * value))
    raise UsageError(f"unknown count constraint {op!r}; expected one of {', '.join(OPERATORS)}")


def count_regions(
    target: ObjectRef, regions: Sequence[Region], op: str = "ask", value: int | None = None
) -> CountAnswer:
    """Count the regions that carry ``target``'s attributes and check the count against ``op``/``value``."""
    if op not in OPERATORS:
        raise UsageError(f"unknown count constraint {op!r}; expected one of {', '.join(OPERATORS)}")
    counted = tuple(r for r in regions if r.matches)
    rejected = tuple(r for r in regions if not r.matches)
    return CountAnswer(target, len(counted), op, value, satisfies(len(counted), op, value), counted, rejected)


class CountRoute:
    """ "how many red circles", "exactly three squares": one detection per object, attributes judged per crop."""

    name = "count"

    def plan(self, analysis: QueryAnalysis, refs: Refs, planned: Sequence[Step]) -> list[Step]:
        targets = [(ref_for(count.noun, refs), count) for count in analysis.parse.counts]
        return [
            Step(self.name, {"target": target, "op": count.op, "value": count.value}, count.text)
            for target, count in targets
            if target is not None
        ]

    def run(self, step: Step, image: Image.Image, kit: Toolkit) -> RouteAnswer:
        target, op = step.args["target"], step.args["op"]
        regions, models = locate(image, target, kit)
        result = count_regions(target, regions, op, step.args["value"])
        answer = result.count if op == "ask" else result.holds
        return RouteAnswer(self.name, step.text, answer, result.to_dict(), models, result)
