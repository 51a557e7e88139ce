"""The trained shapes CLIP: loads like a hub model and has learned colours and shapes (pinned rates).

It is also pinned where it should *fail*: a model trained on alt-text has no reason to understand "no",
which is exactly the limitation clipaware routes around. If these break, the model was retrained into
something else and the eval table no longer measures what docs/shapes.md says it does.
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import ENGINE

from clipaware.world import SHAPES_CLIP_PATH
from clipaware.world.scenes import COLOURS, SHAPES, ObjectSpec, make_scene

# Floors sit a little under the measured rates (docs/shapes.md) so that they pin behaviour, not noise.
RECALL_AT_1_MIN = 0.9  # measured 0.975 (5 galleries of 32)
COLOUR_ALONE_MIN = 0.95  # measured 1.00
SHAPE_ALONE_MIN = 0.93  # measured 0.99
IN_CONTEXT_MIN = 0.85
NEGATION_MAX = 0.35  # chance is 0.5

HELD_OUT_SEED = 777  # training used seeds 0 (scenes), 1 (captions) and 1000 (its own R@1 galleries)


@pytest.fixture(scope="module")
def clip():
    from clipaware.models.clip import ClipModel

    return ClipModel.load(SHAPES_CLIP_PATH, **ENGINE)


def _single(rng: np.random.Generator, colour: str, shape: str):
    return make_scene(rng, [ObjectSpec(shape, colour, str(rng.choice(["small", "large"])))])


def _others(rng: np.random.Generator, colour: str, shape: str, k: int) -> list[ObjectSpec]:
    """``k`` small objects sharing neither the colour nor the shape."""
    colours, shapes = [c for c in COLOURS if c != colour], [s for s in SHAPES if s != shape]
    return [ObjectSpec(str(rng.choice(shapes)), str(rng.choice(colours)), "small") for _ in range(k)]


def _prefers_first(clip, text: str, firsts, seconds) -> np.ndarray:
    t = clip.encode_texts([text])[0]
    a, b = clip.encode_images([s.image for s in firsts]), clip.encode_images([s.image for s in seconds])
    return (a @ t) > (b @ t)


def test_loads_like_a_hub_model_and_stays_small(clip) -> None:
    names = {p.name for p in SHAPES_CLIP_PATH.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "preprocessor_config.json"} <= names
    assert sum(p.stat().st_size for p in SHAPES_CLIP_PATH.iterdir()) <= 15 * 2**20
    assert clip.family == "clip" and clip.logit_scale > 1.0
    emb = clip.encode_texts(["a red circle", "a blue square"])
    assert emb.shape[0] == 2 and np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)


def test_red_circle_ranks_a_red_circle_scene_above_a_blue_square_scene(clip) -> None:
    rng = np.random.default_rng(HELD_OUT_SEED)
    reds = [_single(rng, "red", "circle") for _ in range(100)]
    blues = [_single(rng, "blue", "square") for _ in range(100)]
    assert _prefers_first(clip, "a red circle", reds, blues).mean() >= 0.95
    assert _prefers_first(clip, "a blue square", blues, reds).mean() >= 0.95


def _pair_wins(clip, seed: int, n: int, differ: str) -> float:
    """How often "a c1 s1" prefers the (c1, s1) scene over one differing in colour, shape or both (batched)."""
    rng = np.random.default_rng(seed)
    texts, firsts, seconds = [], [], []
    for _ in range(n):
        (c1, c2), (s1, s2) = rng.choice(list(COLOURS), 2, replace=False), rng.choice(list(SHAPES), 2, replace=False)
        other = {"both": (c2, s2), "colour": (c2, s1), "shape": (c1, s2)}[differ]
        texts.append(f"a {c1} {s1}")
        firsts.append(_single(rng, c1, s1).image)
        seconds.append(_single(rng, *other).image)
    t = clip.encode_texts(texts)
    a, b = clip.encode_images(firsts), clip.encode_images(seconds)
    return float(np.mean((a * t).sum(axis=1) > (b * t).sum(axis=1)))


def test_any_colour_and_shape_beats_a_scene_differing_in_both(clip) -> None:
    assert _pair_wins(clip, HELD_OUT_SEED + 1, 160, "both") >= 0.95


def test_colour_alone_and_shape_alone_are_told_apart(clip) -> None:
    assert _pair_wins(clip, HELD_OUT_SEED + 2, 120, "colour") >= COLOUR_ALONE_MIN
    assert _pair_wins(clip, HELD_OUT_SEED + 2, 120, "shape") >= SHAPE_ALONE_MIN


def test_text_to_image_recall_at_1_on_held_out_single_object_scenes(clip) -> None:
    rng = np.random.default_rng(HELD_OUT_SEED + 3)
    texts = [f"a {c} {s}" for c in COLOURS for s in SHAPES]
    t = clip.encode_texts(texts)
    hits = 0
    for _ in range(3):
        gallery = [_single(rng, c, s) for c in COLOURS for s in SHAPES]
        v = clip.encode_images([g.image for g in gallery])
        hits += int(((t @ v.T).argmax(axis=1) == np.arange(len(texts))).sum())
    assert hits / (3 * len(texts)) >= RECALL_AT_1_MIN


def test_finds_an_object_among_others(clip) -> None:
    """'a red circle' prefers a busy scene that has one over a busy scene that has neither red nor circles."""
    rng = np.random.default_rng(HELD_OUT_SEED + 4)
    texts, with_it, without = [], [], []
    for _ in range(100):
        colour, shape = str(rng.choice(list(COLOURS))), str(rng.choice(list(SHAPES)))
        k = int(rng.integers(1, 4))
        texts.append(f"a {colour} {shape}")
        with_it.append(make_scene(rng, [ObjectSpec(shape, colour, "small"), *_others(rng, colour, shape, k)]).image)
        without.append(make_scene(rng, _others(rng, colour, shape, k + 1)).image)
    t = clip.encode_texts(texts)
    a, b = clip.encode_images(with_it), clip.encode_images(without)
    assert np.mean((a * t).sum(axis=1) > (b * t).sum(axis=1)) >= IN_CONTEXT_MIN


def test_encoding_is_deterministic(clip) -> None:
    scene = _single(np.random.default_rng(1), "green", "star")
    assert np.array_equal(clip.encode_images([scene.image]), clip.encode_images([scene.image]))


def test_clip_alone_shows_the_limitation_the_world_measures(clip) -> None:
    """Trained on alt-text that never says "no", CLIP picks the scene *with* the excluded shape (0.15 measured)."""
    from clipaware.world.evaluate import clip_only_answers
    from clipaware.world.probes import make_probes

    probes = make_probes("negation", 120, seed=0)
    answers = clip_only_answers(probes, clip)
    assert answers == clip_only_answers(probes, clip)  # deterministic
    assert np.mean([a == p.answer for a, p in zip(answers, probes, strict=True)]) <= NEGATION_MAX


def test_american_spelling_reads_as_the_trained_word() -> None:
    from clipaware import ClipModel
    from clipaware.world import SHAPES_CLIP_PATH

    model = ClipModel.load(SHAPES_CLIP_PATH, **ENGINE)
    assert model.knows("gray")  # the analyzer normalises "grey" to "gray"; the model was trained on "grey"
    assert model.tokenizer("a gray star")["input_ids"] == model.tokenizer("a grey star")["input_ids"]
