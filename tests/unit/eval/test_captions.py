"""Alt-text captions: every object named with its colour, no negation, no probe sentences, known words only."""

from __future__ import annotations

import re

import numpy as np

from clipaware.eval.shapes.captions import alt_text, caption_vocabulary, plural
from clipaware.eval.shapes.scenes import generate_scenes
from clipaware.testing import words_of
from clipaware.words import NUMBER_WORDS


def test_every_object_is_named_with_its_colour() -> None:
    rng = np.random.default_rng(0)
    for scene in generate_scenes(200, seed=1):
        caption = alt_text(scene.objects, rng)
        for obj in scene.objects:
            assert re.search(rf"\b{obj.colour} (?:{obj.shape}|{plural(obj.shape)})\b", caption), caption


def test_captions_vary_in_order_and_form_but_never_negate() -> None:
    rng = np.random.default_rng(0)
    scene = generate_scenes(1, seed=0, n_objects=4)[0]
    captions = {alt_text(scene.objects, rng) for _ in range(200)}
    assert len(captions) > 50
    for caption in captions:
        assert not re.search(r"\b(no|not|without)\b", caption)
        assert "to the left of" not in caption and "exactly" not in caption


def test_counts_appear_sometimes_and_are_true() -> None:
    rng = np.random.default_rng(3)
    counted = 0
    for scene in generate_scenes(300, seed=2):
        caption = alt_text(scene.objects, rng)
        for word, colour, shapes in re.findall(r"\b(two|three|four|five|six) (\w+) (\w+s)\b", caption):
            counted += 1
            assert scene.count(shapes[:-1], colour) == NUMBER_WORDS.index(word)
    assert counted > 0


def test_vocabulary_covers_captions_so_the_tokenizer_never_sees_unknowns() -> None:
    rng = np.random.default_rng(0)
    vocabulary = set(caption_vocabulary())
    texts = [alt_text(s.objects, rng) for s in generate_scenes(300, seed=4)]
    assert set(words_of(texts)) <= vocabulary
