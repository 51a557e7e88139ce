"""Probes: questions about shapes scenes whose answers are known, one family per CLIP limitation.

Each probe is a multiple choice with exact ground truth, so any answerer — CLIP alone, or clipaware's routes —
is scored the same way, against the same chance level:

- ``count``: "how many red circles?" (1–6 present) — choose among "one red circle" … "six red circles";
- ``count_exact``: "exactly three squares" — yes or no (half the scenes have three);
- ``left_right`` / ``above_below``: "a red circle to the left of a blue square" against the swapped relation;
- ``binding``: "a red circle and a blue square" against "a blue circle and a red square";
- ``negation``: "a scene with no triangles" — choose between two scenes that differ only in the triangles.

The sentences are deliberately unlike the alt-text the shapes CLIP was trained on (see
:mod:`clipaware.eval.shapes.captions`), as real user queries are unlike web alt-text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from clipaware.eval.shapes.captions import plural
from clipaware.eval.shapes.scenes import (
    COLOURS,
    SCENE_SIZE,
    SHAPES,
    SIZES,
    ObjectSpec,
    PlacementError,
    Scene,
    SceneObject,
    make_scene,
)
from clipaware.words import NUMBER_WORDS

TASKS: tuple[str, ...] = ("count", "count_exact", "left_right", "above_below", "binding", "negation")


@dataclass(frozen=True)
class Probe:
    """One question with known answer.

    ``kind`` says how to read it:

    - ``"choose_text"``: one image, several ``texts``; ``answer`` is the index of the true text;
    - ``"choose_image"``: one text, several ``images``; ``answer`` is the index of the matching image;
    - ``"yes_no"``: one image and the statement ``texts[0]``; ``texts[1:]`` are the alternatives a
      similarity-only answerer compares it with; ``answer`` is 1 (holds) or 0 (does not hold).

    ``truth`` holds the structured ground truth (target object, count, relation) that a routed answerer
    may use to build its own query — never the answer itself.
    """

    task: str
    kind: str
    question: str
    texts: tuple[str, ...]
    images: tuple[Image.Image, ...] = field(repr=False, compare=False)
    scenes: tuple[Scene, ...] = field(repr=False, compare=False)
    answer: int
    query: dict

    @property
    def chance(self) -> float:
        """Accuracy of a uniform random guess on this probe."""
        if self.kind == "yes_no":
            return 0.5
        return 1.0 / (len(self.images) if self.kind == "choose_image" else len(self.texts))

    def to_dict(self) -> dict:
        return {
            "task": self.task,
            "kind": self.kind,
            "question": self.question,
            "texts": list(self.texts),
            "answer": self.answer,
            "query": self.query,
            "scenes": [s.to_dict() for s in self.scenes],
        }


def _article(phrase: str) -> str:
    return f"{'an' if phrase[0] in 'aeiou' else 'a'} {phrase}"


def _number_phrase(k: int, colour: str | None, shape: str) -> str:
    noun = shape if k == 1 else plural(shape)
    return " ".join(w for w in (NUMBER_WORDS[k], colour, noun) if w)


def _two_distinct(rng: np.random.Generator) -> tuple[tuple[str, str], tuple[str, str]]:
    """Two objects that differ in both colour and shape (so the swapped caption is a different claim)."""
    c1, c2 = (str(c) for c in rng.choice(list(COLOURS), size=2, replace=False))
    s1, s2 = (str(s) for s in rng.choice(list(SHAPES), size=2, replace=False))
    return (c1, s1), (c2, s2)


def _size(rng: np.random.Generator) -> str:
    return str(rng.choice(list(SIZES)))


def _distractors(
    rng: np.random.Generator, k: int, ok: Callable[[str, str], bool], small: bool = False
) -> list[ObjectSpec]:
    """``k`` random objects whose (colour, shape) passes ``ok`` — so they cannot change the answer."""
    pairs = [(c, s) for c in COLOURS for s in SHAPES if ok(c, s)]
    out = []
    for _ in range(k):
        c, s = pairs[int(rng.integers(len(pairs)))]
        out.append(ObjectSpec(s, c, "small" if small else _size(rng)))
    return out


def _scene(rng: np.random.Generator, specs: list[ObjectSpec]) -> Scene:
    """A scene of exactly ``specs``; crowded layouts fall back to small objects rather than fail."""
    try:
        return make_scene(rng, specs)
    except PlacementError:
        return make_scene(rng, [ObjectSpec(s.shape, s.colour, "small", s.region) for s in specs])


def count_probe(rng: np.random.Generator) -> Probe:
    colour, shape = str(rng.choice(list(COLOURS))), str(rng.choice(list(SHAPES)))
    k = int(rng.integers(1, 7))
    n_other = int(rng.integers(0, min(2, 6 - k) + 1))
    specs = [ObjectSpec(shape, colour, _size(rng)) for _ in range(k)]
    specs += _distractors(rng, n_other, lambda c, s: (c, s) != (colour, shape))
    order = rng.permutation(len(specs))
    scene = _scene(rng, [specs[i] for i in order])
    texts = tuple(_number_phrase(j, colour, shape) for j in range(1, 7))
    return Probe(
        task="count",
        kind="choose_text",
        question=f"how many {colour} {plural(shape)}?",
        texts=texts,
        images=(scene.image,),
        scenes=(scene,),
        answer=scene.count(shape, colour) - 1,
        query={"colour": colour, "shape": shape},
    )


def count_exact_probe(rng: np.random.Generator, holds: bool) -> Probe:
    shape = str(rng.choice(list(SHAPES)))
    k = 3 if holds else int(rng.choice([1, 2, 4, 5, 6]))
    n_other = int(rng.integers(0, min(2, 6 - k) + 1))
    specs = [ObjectSpec(shape, str(rng.choice(list(COLOURS))), _size(rng)) for _ in range(k)]
    specs += _distractors(rng, n_other, lambda c, s: s != shape)
    order = rng.permutation(len(specs))
    scene = _scene(rng, [specs[i] for i in order])
    statement = f"exactly three {plural(shape)}"
    others = tuple(f"exactly {_number_phrase(j, None, shape)}" for j in (1, 2, 4, 5, 6))
    return Probe(
        task="count_exact",
        kind="yes_no",
        question=statement,
        texts=(statement, *others),
        images=(scene.image,),
        scenes=(scene,),
        answer=int(scene.count(shape) == 3),
        query={"shape": shape, "count": 3, "comparison": "exactly"},
    )


def relation_probe(rng: np.random.Generator, axis: str) -> Probe:
    """Two objects on either side of the scene's middle line; the swapped sentence is the foil."""
    (c1, s1), (c2, s2) = _two_distinct(rng)
    half = SCENE_SIZE // 2
    if axis == "left_right":
        first, second = (0, 0, half, SCENE_SIZE), (half, 0, SCENE_SIZE, SCENE_SIZE)
        words = ("to the left of", "to the right of")
    else:
        first, second = (0, 0, SCENE_SIZE, half), (0, half, SCENE_SIZE, SCENE_SIZE)
        words = ("above", "below")
    subject_first = bool(rng.random() < 0.5)
    r_subject, r_object = (first, second) if subject_first else (second, first)
    specs = [ObjectSpec(s1, c1, _size(rng), r_subject), ObjectSpec(s2, c2, _size(rng), r_object)]
    specs += _distractors(rng, int(rng.integers(0, 3)), lambda c, s: (c, s) not in {(c1, s1), (c2, s2)}, small=True)
    scene = _scene(rng, specs)
    a, b = _article(f"{c1} {s1}"), _article(f"{c2} {s2}")
    texts = (f"{a} {words[0]} {b}", f"{a} {words[1]} {b}")
    relation = words[0] if subject_first else words[1]
    return Probe(
        task=axis,
        kind="choose_text",
        question=f"{a} {relation} {b}",
        texts=texts,
        images=(scene.image,),
        scenes=(scene,),
        answer=0 if subject_first else 1,
        query={"subject": {"colour": c1, "shape": s1}, "object": {"colour": c2, "shape": s2}, "axis": axis},
    )


def binding_probe(rng: np.random.Generator) -> Probe:
    """A c1 s1 and a c2 s2 against the attribute-swapped c2 s1 and c1 s2; distractors share neither."""
    (c1, s1), (c2, s2) = _two_distinct(rng)
    specs = [ObjectSpec(s1, c1, _size(rng)), ObjectSpec(s2, c2, _size(rng))]
    specs += _distractors(rng, int(rng.integers(0, 3)), lambda c, s: c not in {c1, c2} and s not in {s1, s2})
    order = rng.permutation(len(specs))
    scene = _scene(rng, [specs[i] for i in order])
    true = f"{_article(f'{c1} {s1}')} and {_article(f'{c2} {s2}')}"
    swapped = f"{_article(f'{c2} {s1}')} and {_article(f'{c1} {s2}')}"
    true_first = bool(rng.random() < 0.5)
    return Probe(
        task="binding",
        kind="choose_text",
        question=true,
        texts=(true, swapped) if true_first else (swapped, true),
        images=(scene.image,),
        scenes=(scene,),
        answer=0 if true_first else 1,
        # the objects as the first candidate names them (the true text or the swap, at random)
        query={
            "objects": [
                {"colour": c, "shape": s} for c, s in (((c1, s1), (c2, s2)) if true_first else ((c2, s1), (c1, s2)))
            ]
        },
    )


def negation_probe(rng: np.random.Generator) -> Probe:
    """Two scenes alike but for the excluded shape: one has 1–2 of it, the other has other shapes there."""
    excluded = str(rng.choice(list(SHAPES)))
    others = [s for s in SHAPES if s != excluded]
    base = [
        ObjectSpec(str(rng.choice(others)), str(rng.choice(list(COLOURS))), _size(rng))
        for _ in range(int(rng.integers(1, 4)))
    ]
    extra = [(str(rng.choice(list(COLOURS))), _size(rng)) for _ in range(int(rng.integers(1, 3)))]
    with_it = base + [ObjectSpec(excluded, c, size) for c, size in extra]
    without = base + [ObjectSpec(str(rng.choice(others)), c, size) for c, size in extra]
    scene_with, scene_without = _scene(rng, with_it), _scene(rng, without)
    without_first = bool(rng.random() < 0.5)
    scenes = (scene_without, scene_with) if without_first else (scene_with, scene_without)
    text = f"a scene with no {plural(excluded)}"
    return Probe(
        task="negation",
        kind="choose_image",
        question=text,
        texts=(text,),
        images=tuple(s.image for s in scenes),
        scenes=scenes,
        answer=0 if without_first else 1,
        query={"excluded": excluded},
    )


def make_probes(task: str, n: int, seed: int = 0) -> list[Probe]:
    """``n`` probes of one task from one seed (each task has its own stream: tasks never shift each other)."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    rng = np.random.default_rng([seed, TASKS.index(task)])
    if task == "count":
        return [count_probe(rng) for _ in range(n)]
    if task == "count_exact":
        return [count_exact_probe(rng, holds=i % 2 == 0) for i in range(n)]
    if task in ("left_right", "above_below"):
        return [relation_probe(rng, task) for _ in range(n)]
    if task == "binding":
        return [binding_probe(rng) for _ in range(n)]
    return [negation_probe(rng) for _ in range(n)]


def relation_holds(subject: SceneObject, obj: SceneObject, relation: str) -> bool:
    """Ground-truth geometry used to check the probes: strict order of box centres along one axis."""
    (sx, sy), (ox, oy) = subject.centre, obj.centre
    return {
        "to the left of": sx < ox,
        "to the right of": sx > ox,
        "above": sy < oy,
        "below": sy > oy,
    }[relation]
