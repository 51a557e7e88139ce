"""Probes: every answer is checked against the scene's ground truth, independently of how it was built."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from clipaware.eval.shapes.probes import TASKS, make_probes, relation_holds
from clipaware.words import NUMBER_WORDS

N = 60


def _objects_named(scene, phrase: str):
    colour, shape = phrase.split()
    return [o for o in scene.objects if o.colour == colour and o.shape == shape]


@pytest.mark.parametrize("task", TASKS)
def test_same_seed_same_probes(task: str) -> None:
    a, b = make_probes(task, 8, seed=4), make_probes(task, 8, seed=4)
    assert [p.to_dict() for p in a] == [p.to_dict() for p in b]
    assert [p.to_dict() for p in a] != [p.to_dict() for p in make_probes(task, 8, seed=5)]


def test_unknown_task_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown task"):
        make_probes("colour", 1)


def test_count_answers_are_true_counts_from_one_to_six() -> None:
    probes = make_probes("count", N)
    for p in probes:
        colour, shape = p.query["colour"], p.query["shape"]
        true = sum(o.colour == colour and o.shape == shape for o in p.scenes[0].objects)
        assert p.texts[p.answer].split()[0] == NUMBER_WORDS[true]
        assert len(p.texts) == 6 and p.chance == pytest.approx(1 / 6)
    assert {p.answer for p in probes} == set(range(6))


def test_count_exact_is_balanced_and_true() -> None:
    probes = make_probes("count_exact", N)
    for p in probes:
        shape = p.query["shape"]
        assert p.answer == int(sum(o.shape == shape for o in p.scenes[0].objects) == 3)
        assert p.texts[0] == f"exactly three {shape}s" and p.chance == 0.5
    assert Counter(p.answer for p in probes) == {0: N // 2, 1: N // 2}


@pytest.mark.parametrize("task", ["left_right", "above_below"])
def test_relation_answer_holds_and_the_swap_does_not(task: str) -> None:
    probes = make_probes(task, N)
    pattern = re.compile(r"^an? (\w+ \w+) (to the left of|to the right of|above|below) an? (\w+ \w+)$")
    for p in probes:
        scene = p.scenes[0]
        for i, text in enumerate(p.texts):
            subject, relation, obj = pattern.match(text).groups()
            (s,), (o,) = _objects_named(scene, subject), _objects_named(scene, obj)
            assert relation_holds(s, o, relation) == (i == p.answer), text
    assert {p.answer for p in probes} == {0, 1}


def test_binding_true_pairs_exist_and_swapped_pairs_do_not() -> None:
    probes = make_probes("binding", N)
    for p in probes:
        scene = p.scenes[0]
        for i, text in enumerate(p.texts):
            phrases = re.findall(r"an? (\w+ \w+)", text)
            present = all(_objects_named(scene, ph) for ph in phrases)
            assert present == (i == p.answer), text
            if i != p.answer:  # the swap uses the same colours and shapes, only bound differently
                assert not any(_objects_named(scene, ph) for ph in phrases)
    assert {p.answer for p in probes} == {0, 1}


def test_negation_picks_the_scene_without_the_shape() -> None:
    probes = make_probes("negation", N)
    for p in probes:
        excluded = p.query["excluded"]
        assert p.texts == (f"a scene with no {excluded}s",)
        has = [s.count(excluded) > 0 for s in p.scenes]
        assert has[p.answer] is False and has[1 - p.answer] is True
        # both scenes hold the same number of objects in the same colours: only the shape differs
        a, b = p.scenes
        assert Counter(o.colour for o in a.objects) == Counter(o.colour for o in b.objects)
        assert p.kind == "choose_image" and len(p.images) == 2 and p.chance == 0.5
    assert {p.answer for p in probes} == {0, 1}


def test_relation_geometry() -> None:
    from clipaware.eval.shapes.scenes import SceneObject

    left = SceneObject("circle", "red", "small", (0, 100, 20, 120))
    right = SceneObject("square", "blue", "small", (100, 0, 120, 20))
    assert relation_holds(left, right, "to the left of") and not relation_holds(left, right, "to the right of")
    assert relation_holds(left, right, "below") and relation_holds(right, left, "above")
