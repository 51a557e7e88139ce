"""Relations from hand-made boxes: every relation, and the edge cases (touching, overlap, identical
centres, zero-area boxes)."""

from __future__ import annotations

import pytest

from clipaware.tasks.geometry import RELATIONS, Verdict, gap, iou, relate

H, F, U = Verdict.HOLDS, Verdict.FAILS, Verdict.UNKNOWN
A = (10, 40, 30, 60)  # 20x20 box on the left
B = (70, 40, 90, 60)  # same size, far right, level


@pytest.mark.parametrize(
    ("relation", "subject", "obj", "expected"),
    [
        ("left_of", A, B, H),
        ("left_of", B, A, F),
        ("right_of", B, A, H),
        ("right_of", A, B, F),
        ("left_of", A, A, F),  # identical centres: not left of
        ("left_of", (10, 0, 30, 20), (12, 40, 32, 60), U),  # 2px apart horizontally: within the margin
        ("above", (40, 0, 60, 20), (40, 70, 60, 90), H),
        ("above", (40, 70, 60, 90), (40, 0, 60, 20), F),
        ("below", (40, 70, 60, 90), (40, 0, 60, 20), H),
        ("below", A, B, F),  # level: not below
        ("on_top_of", (40, 20, 60, 40), (20, 40, 80, 60), H),  # touching, centred: a cup on a table
        ("on_top_of", (40, 25, 60, 45), (20, 40, 80, 60), H),  # overlapping the top edge still rests on it
        ("on_top_of", (40, 0, 60, 10), (20, 40, 80, 60), U),  # above, floating well clear
        ("on_top_of", (100, 20, 120, 40), (20, 40, 80, 60), F),  # touching height but beside
        ("on_top_of", (40, 60, 60, 80), (20, 40, 80, 60), F),  # below
        ("under", (40, 62, 60, 80), (20, 20, 80, 60), H),  # a cat under a table
        ("under", (100, 62, 120, 80), (20, 20, 80, 60), F),  # lower but beside
        ("under", (40, 0, 60, 10), (20, 20, 80, 60), F),
        ("next_to", A, (32, 40, 52, 60), H),  # 2px gap
        ("next_to", A, (30, 40, 50, 60), H),  # touching edges
        ("next_to", A, (200, 40, 220, 60), F),
        ("next_to", A, (50, 40, 70, 60), U),  # one object-width apart: ambiguous
        ("next_to", A, A, F),  # the same box is not "next to" itself
        ("inside", (45, 45, 55, 55), (40, 40, 60, 60), H),
        ("inside", (40, 40, 60, 60), (40, 40, 60, 60), H),  # identical boxes: contained
        ("inside", (50, 50, 70, 70), (40, 40, 60, 60), F),  # 25 % overlap
        ("inside", (45, 40, 65, 60), (40, 40, 60, 60), U),  # 75 % inside
    ],
)
def test_relations_on_hand_made_boxes(relation: str, subject, obj, expected: Verdict) -> None:
    assert relate(relation, subject, obj).verdict is expected


def test_between_along_and_off_the_line() -> None:
    left, right = (0, 40, 20, 60), (80, 40, 100, 60)
    assert relate("between", (40, 40, 60, 60), left, right).verdict is H
    assert relate("between", (120, 40, 140, 60), left, right).verdict is F  # beyond one end
    assert relate("between", (40, 200, 60, 220), left, right).verdict is F  # far off the line
    assert relate("between", (40, 40, 60, 60), left, left).verdict is U  # references share a centre
    with pytest.raises(ValueError, match="two objects"):
        relate("between", left, right)


def test_depth_needs_an_occlusion_cue_and_is_always_low_confidence() -> None:
    far, near = (30, 20, 70, 60), (40, 40, 80, 90)  # overlapping; near reaches lower in the frame
    front = relate("in_front_of", near, far)
    assert front.verdict is H and front.low_confidence
    assert relate("behind", far, near).verdict is H
    assert relate("behind", near, far).verdict is F
    apart = relate("behind", A, B)
    assert apart.verdict is U and apart.low_confidence and "occlusion" in apart.reason


@pytest.mark.parametrize("relation", RELATIONS)
def test_zero_area_boxes_cannot_tell(relation: str) -> None:
    flat = (10, 10, 30, 10)
    result = relate(relation, flat, B, B if relation == "between" else None)
    assert result.verdict is U and "zero area" in result.reason


def test_unknown_relation_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown relation"):
        relate("diagonal_to", A, B)


def test_box_measures() -> None:
    assert gap(A, B) == 40 and gap(A, A) == 0 and gap((0, 0, 10, 10), (13, 14, 20, 20)) == 5
    assert iou(A, A) == 1 and iou(A, B) == 0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)


def test_results_serialise_with_their_evidence() -> None:
    out = relate("left_of", A, B).to_dict()
    assert out["verdict"] == "holds" and out["relation"] == "left_of" and "px" in out["reason"]


@pytest.mark.parametrize(
    ("position", "box", "expected"),
    [
        ("left", (0, 40, 20, 60), H),
        ("left", (80, 40, 100, 60), F),
        ("top-right", (80, 0, 100, 20), H),
        ("upper right", (80, 0, 100, 20), H),
        ("bottom_left", (80, 0, 100, 20), F),
        ("centre", (40, 40, 60, 60), H),
        ("middle", (0, 0, 10, 10), F),
        ("background", (0, 0, 10, 10), U),
        ("left", (10, 10, 10, 30), U),
    ],
)
def test_positions_in_the_frame(position: str, box, expected: Verdict) -> None:
    from clipaware.tasks.geometry import in_frame

    assert in_frame(position, box, (100, 100)).verdict is expected


@pytest.mark.parametrize(
    ("relation", "subject", "obj", "reason"),
    [
        ("left_of", (200, 0, 220, 20), (40, 0, 60, 20), "the subject's centre is 160px right of the object's"),
        ("right_of", (200, 0, 220, 20), (40, 0, 60, 20), "the subject's centre is 160px right of the object's"),
        ("above", (0, 10, 20, 30), (0, 110, 20, 130), "the subject's centre is 100px above the object's"),
        ("below", (0, 10, 20, 30), (0, 110, 20, 130), "the subject's centre is 100px above the object's"),
        ("left_of", (0, 0, 20, 20), (0, 50, 20, 70), "the subject's centre is level with the object's"),
    ],
)
def test_the_reason_says_where_the_subject_is(relation: str, subject, obj, reason: str) -> None:
    assert relate(relation, subject, obj).reason.startswith(reason)
