"""Planning routes from the analyzer's parse (no models) and combining route answers."""

from __future__ import annotations

import pytest

from clipaware.query import analyze
from clipaware.routes import RouteAnswer, plan
from clipaware.tasks.ask import combine


def _routes(query: str) -> list[dict]:
    return [step.to_dict() for step in plan(analyze(query))]


def test_how_many_plans_a_count_with_the_attribute() -> None:
    (step,) = _routes("how many red circles are there?")
    assert step["route"] == "count" and step["target"] == "red circle" and step["op"] == "ask"


def test_exact_counts_keep_their_number() -> None:
    (step,) = _routes("exactly three squares")
    assert (step["route"], step["target"], step["op"], step["value"]) == ("count", "square", "exact", 3)


def test_several_limitations_compose() -> None:
    routes = _routes("two red cars left of a blue truck")
    assert [r["route"] for r in routes] == ["count", "relate"]  # relate judges each side's colour on its crop
    relate = routes[1]
    assert (relate["subject"], relate["relation"], relate["object"]) == ("red car", "left_of", "blue truck")
    bound = _routes("a red car and a blue truck")
    assert [r["route"] for r in bound] == ["bind"] and bound[0]["phrases"] == ["red car", "blue truck"]


def test_negation_looks_for_the_excluded_thing_and_keeps_the_positive_part() -> None:
    routes = _routes("a beach with no people")
    assert routes[0] == {"route": "negate", "text": "no people", "excluded": "person"}
    assert routes[1]["route"] == "clip" and routes[1]["text"] == "a beach"
    assert [r["route"] for r in _routes("a scene with no triangles")] == ["negate"]  # nothing positive left


def test_frame_positions_and_between() -> None:
    (frame,) = _routes("sun in the top right corner of the photo")
    assert (frame["route"], frame["target"], frame["position"]) == ("frame", "sun", "top_right")
    between = next(r for r in _routes("a vase between two candles") if r["route"] == "relate")
    assert (between["relation"], between["object"], between["second"]) == ("between", "candle", "candle")


def test_roles_identity_and_plain_queries() -> None:
    assert _routes("cat chasing a dog")[0]["route"] == "roles"
    assert _routes("photo of Barack Obama giving a speech")[0]["route"] == "identify"
    assert _routes("a beach at sunset") == [{"route": "clip", "text": "a beach at sunset"}]


def _answer(route: str, value) -> RouteAnswer:
    return RouteAnswer(route, "", value, {}, ())


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ([("count", 3)], 3),
        ([("count", True), ("relate", True)], True),
        ([("count", True), ("relate", False)], False),
        ([("relate", None), ("bind", True)], None),
        ([("relate", None), ("bind", False)], False),
        ([("identify", "alice")], "alice"),
    ],
)
def test_combine(answers, expected) -> None:
    assert combine([_answer(r, v) for r, v in answers]) == expected


@pytest.mark.parametrize(
    ("text", "subject", "obj", "swapped"),
    [
        ("cat chasing a dog", "cat", "dog", "dog chasing a cat"),
        ("man is taller than a woman", "man", "woman", "woman is taller than a man"),
        ("horses pulling a cart", "horse", "cart", "cart pulling a horses"),
        ("cat chasing a cat", "cat", "cat", None),
        ("cat chasing a dog", "cat", "mouse", None),
    ],
)
def test_role_swap_keeps_the_users_words(text: str, subject: str, obj: str, swapped: str | None) -> None:
    from clipaware.routes.roles import swap_roles

    assert swap_roles(text, subject, obj) == swapped
