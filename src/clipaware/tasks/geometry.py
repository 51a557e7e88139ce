"""Spatial relations from boxes: the geometry behind the ``relate`` route.

CLIP gives near-identical scores to "a cat left of a dog" and "a dog left of a cat"; box geometry does
not. Boxes are (x0, y0, x1, y1) in pixels with y growing downwards, as detectors return them. Every
relation answers one of three verdicts: it holds, it does not hold, or the boxes cannot tell (centres
within a margin of each other, degenerate boxes, depth relations without an occlusion cue). Margins are
relative to the objects' sizes, so the same rule works for thumbnails and 12-megapixel photos.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

Box = tuple[float, float, float, float]

# Fractions of object size used as decision margins; chosen so that a clear human judgement ("left of")
# is a "holds" and a borderline one ("roughly in line") is "can't tell" rather than a coin flip.
CENTRE_MARGIN = 0.15  # of the mean width (left/right) or height (above/below)
TOUCH_TOLERANCE = 0.08  # of the larger height: a gap this small still counts as touching
NEAR_GAP = 0.5  # of the mean object size: next to
FAR_GAP = 1.5  # of the mean object size: clearly not next to
INSIDE_HOLDS = 0.9  # share of the subject's area within the object
INSIDE_FAILS = 0.5

RELATIONS = (
    "left_of",
    "right_of",
    "above",
    "below",
    "on_top_of",
    "under",
    "next_to",
    "inside",
    "between",
    "behind",
    "in_front_of",
)


class Verdict(str, Enum):
    HOLDS = "holds"
    FAILS = "does_not_hold"
    UNKNOWN = "cant_tell"


@dataclass(frozen=True)
class RelationResult:
    """A verdict with the reason a person can check against the boxes."""

    relation: str
    verdict: Verdict
    reason: str
    low_confidence: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "relation": self.relation,
            "verdict": self.verdict.value,
            "reason": self.reason,
            "low_confidence": self.low_confidence,
        }


def width(b: Box) -> float:
    return max(0.0, b[2] - b[0])


def height(b: Box) -> float:
    return max(0.0, b[3] - b[1])


def area(b: Box) -> float:
    return width(b) * height(b)


def centre(b: Box) -> tuple[float, float]:
    return (b[0] + b[2]) / 2, (b[1] + b[3]) / 2


def intersection(a: Box, b: Box) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def iou(a: Box, b: Box) -> float:
    inter = intersection(a, b)
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


def gap(a: Box, b: Box) -> float:
    """Shortest distance between the two boxes' edges (0 when they touch or overlap)."""
    dx = max(0.0, max(a[0], b[0]) - min(a[2], b[2]))
    dy = max(0.0, max(a[1], b[1]) - min(a[3], b[3]))
    return math.hypot(dx, dy)


def _size(b: Box) -> float:
    return math.sqrt(area(b))


def _ordered(relation: str, delta: float, margin: float, axis: str) -> RelationResult:
    """``delta`` < 0 means the subject comes first along the axis (left / higher); the reason says where the
    subject really is ("48px right of the object"), whichever relation was asked."""
    raw = delta if relation in ("left_of", "above") else -delta  # subject minus object along the axis
    before, after = ("left of", "right of") if axis == "x" else ("above", "below")
    where = f"{abs(raw):.0f}px {before if raw < 0 else after}" if raw else "level with"
    reason = f"the subject's centre is {where} the object's"
    if delta <= -margin:
        return RelationResult(relation, Verdict.HOLDS, reason)
    if delta >= 0:
        return RelationResult(relation, Verdict.FAILS, reason)
    return RelationResult(relation, Verdict.UNKNOWN, f"{reason}: within the {margin:.0f}px margin, too close to call")


def relate(relation: str, subject: Box, obj: Box, second: Box | None = None) -> RelationResult:
    """Does ``subject`` stand in ``relation`` to ``obj`` (and ``second``, for "between")?"""
    if relation not in RELATIONS:
        raise ValueError(f"unknown relation {relation!r}; known: {', '.join(RELATIONS)}")
    boxes = [subject, obj] + ([second] if second is not None else [])
    if any(area(b) <= 0 for b in boxes):
        return RelationResult(relation, Verdict.UNKNOWN, "a box has zero area")
    (sx, sy), (ox, oy) = centre(subject), centre(obj)
    h_margin = CENTRE_MARGIN * (width(subject) + width(obj)) / 2
    v_margin = CENTRE_MARGIN * (height(subject) + height(obj)) / 2
    if relation == "left_of":
        return _ordered(relation, sx - ox, h_margin, "x")
    if relation == "right_of":
        return _ordered(relation, ox - sx, h_margin, "x")
    if relation == "above":
        return _ordered(relation, sy - oy, v_margin, "y")
    if relation == "below":
        return _ordered(relation, oy - sy, v_margin, "y")
    if relation == "on_top_of":
        return _on_top_of(subject, obj)
    if relation == "under":
        return _under(subject, obj)
    if relation == "next_to":
        return _next_to(subject, obj)
    if relation == "inside":
        return _inside(subject, obj)
    if relation == "between":
        if second is None:
            raise ValueError("'between' needs two objects")
        return _between(subject, obj, second)
    return _depth(relation, subject, obj)


def _horizontal_support(subject: Box, obj: Box) -> bool:
    sx = centre(subject)[0]
    return obj[0] <= sx <= obj[2]


def _on_top_of(subject: Box, obj: Box) -> RelationResult:
    tol = TOUCH_TOLERANCE * max(height(subject), height(obj))
    resting = obj[1] - tol <= subject[3] <= obj[1] + 0.5 * height(obj)
    if centre(subject)[1] < centre(obj)[1] and resting and _horizontal_support(subject, obj):
        return RelationResult(
            "on_top_of", Verdict.HOLDS, "subject's bottom edge rests on the object's top, centred over it"
        )
    if centre(subject)[1] >= centre(obj)[1] or not _horizontal_support(subject, obj):
        return RelationResult("on_top_of", Verdict.FAILS, "subject is not above the object's extent")
    return RelationResult(
        "on_top_of", Verdict.UNKNOWN, f"subject is above but {obj[1] - subject[3]:.0f}px clear of the object's top"
    )


def _under(subject: Box, obj: Box) -> RelationResult:
    below = centre(subject)[1] > centre(obj)[1] and subject[3] > obj[3] - 0.25 * height(obj)
    if below and _horizontal_support(subject, obj):
        return RelationResult("under", Verdict.HOLDS, "subject is below the object and within its horizontal extent")
    if centre(subject)[1] <= centre(obj)[1]:
        return RelationResult("under", Verdict.FAILS, "subject's centre is not lower than the object's")
    if not _horizontal_support(subject, obj):
        return RelationResult("under", Verdict.FAILS, "subject is lower but beside the object, not under it")
    return RelationResult("under", Verdict.UNKNOWN, "subject is lower but overlaps the object's lower part")


def _next_to(subject: Box, obj: Box) -> RelationResult:
    size = (_size(subject) + _size(obj)) / 2
    distance = gap(subject, obj)
    if iou(subject, obj) > 0.5:
        return RelationResult("next_to", Verdict.FAILS, "the boxes mostly coincide (IoU > 0.5)")
    if distance <= NEAR_GAP * size:
        return RelationResult("next_to", Verdict.HOLDS, f"gap {distance:.0f}px ≤ {NEAR_GAP} × object size")
    if distance >= FAR_GAP * size:
        return RelationResult("next_to", Verdict.FAILS, f"gap {distance:.0f}px ≥ {FAR_GAP} × object size")
    return RelationResult("next_to", Verdict.UNKNOWN, f"gap {distance:.0f}px is neither near nor far")


def _inside(subject: Box, obj: Box) -> RelationResult:
    share = intersection(subject, obj) / area(subject)
    if share >= INSIDE_HOLDS:
        return RelationResult("inside", Verdict.HOLDS, f"{share:.0%} of the subject lies within the object")
    if share <= INSIDE_FAILS:
        return RelationResult("inside", Verdict.FAILS, f"only {share:.0%} of the subject lies within the object")
    return RelationResult("inside", Verdict.UNKNOWN, f"{share:.0%} of the subject lies within the object")


def _between(subject: Box, a: Box, b: Box) -> RelationResult:
    (sx, sy), (ax, ay), (bx, by) = centre(subject), centre(a), centre(b)
    vx, vy = bx - ax, by - ay
    length2 = vx * vx + vy * vy
    if length2 == 0:
        return RelationResult("between", Verdict.UNKNOWN, "the two reference objects share a centre")
    t = ((sx - ax) * vx + (sy - ay) * vy) / length2
    off_axis = abs((sx - ax) * vy - (sy - ay) * vx) / math.sqrt(length2)
    size = (_size(a) + _size(b)) / 2
    if 0.1 <= t <= 0.9 and off_axis <= 0.75 * size:
        return RelationResult("between", Verdict.HOLDS, f"subject lies {t:.0%} of the way from one object to the other")
    if t < 0 or t > 1 or off_axis > 2 * size:
        return RelationResult("between", Verdict.FAILS, "subject is outside the span between the two objects")
    return RelationResult("between", Verdict.UNKNOWN, "subject is near the end of, or off, the line between them")


def _depth(relation: str, subject: Box, obj: Box) -> RelationResult:
    """Behind / in front of: boxes carry no depth, so only an overlap (an occlusion) gives a weak cue.

    When the boxes overlap, the object whose bottom edge is lower in the frame is taken as nearer (it
    stands closer on the ground plane and is the likelier occluder). Always flagged low-confidence.
    """
    if intersection(subject, obj) == 0:
        return RelationResult(relation, Verdict.UNKNOWN, "no overlap, so no occlusion cue for depth", True)
    subject_nearer = subject[3] > obj[3]
    if subject[3] == obj[3]:
        return RelationResult(relation, Verdict.UNKNOWN, "overlapping boxes end at the same height", True)
    holds = subject_nearer if relation == "in_front_of" else not subject_nearer
    verdict = Verdict.HOLDS if holds else Verdict.FAILS
    who = "subject" if subject_nearer else "object"
    return RelationResult(relation, verdict, f"boxes overlap; the {who} reaches lower in the frame (nearer)", True)


# Where in the frame a position word points, as (x range, y range) in fractions of the image.
FRAME_REGIONS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "left": ((0.0, 0.4), (0.0, 1.0)),
    "right": ((0.6, 1.0), (0.0, 1.0)),
    "top": ((0.0, 1.0), (0.0, 0.4)),
    "bottom": ((0.0, 1.0), (0.6, 1.0)),
    "center": ((0.3, 0.7), (0.3, 0.7)),
    "top_left": ((0.0, 0.45), (0.0, 0.45)),
    "top_right": ((0.55, 1.0), (0.0, 0.45)),
    "bottom_left": ((0.0, 0.45), (0.55, 1.0)),
    "bottom_right": ((0.55, 1.0), (0.55, 1.0)),
}
FRAME_SYNONYMS = {
    "centre": "center",
    "middle": "center",
    "upper": "top",
    "lower": "bottom",
    "upper_left": "top_left",
    "upper_right": "top_right",
    "lower_left": "bottom_left",
    "lower_right": "bottom_right",
    "left_side": "left",
    "right_side": "right",
}


def frame_region_name(position: str) -> str | None:
    """The canonical frame region for a position word ("upper-left" → "top_left"), None if unknown."""
    key = position.lower().replace("-", "_").replace(" ", "_")
    key = FRAME_SYNONYMS.get(key, key)
    return key if key in FRAME_REGIONS else None


def in_frame(position: str, box: Box, image_size: tuple[int, int]) -> RelationResult:
    """Is the box's centre in the named part of the frame ("top_right", "left", "center", …)?"""
    name = frame_region_name(position)
    if name is None:
        return RelationResult(position, Verdict.UNKNOWN, f"'{position}' is not a position the boxes can check")
    if area(box) <= 0:
        return RelationResult(name, Verdict.UNKNOWN, "a box has zero area")
    w, h = image_size
    cx, cy = centre(box)
    fx, fy = cx / w, cy / h
    (x0, x1), (y0, y1) = FRAME_REGIONS[name]
    if x0 <= fx <= x1 and y0 <= fy <= y1:
        return RelationResult(name, Verdict.HOLDS, f"centre at ({fx:.0%}, {fy:.0%}) of the frame is in its {name}")
    return RelationResult(name, Verdict.FAILS, f"centre at ({fx:.0%}, {fy:.0%}) of the frame is outside its {name}")
