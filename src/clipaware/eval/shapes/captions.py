"""Alt-text-like captions for training the shapes CLIP.

Real CLIP learned from web alt-text: objects and their colours listed in no particular order, counts and
positions only now and then, negation almost never. The captions here imitate that on purpose, so that the
small model inherits the same blind spots (binding, counting, relations, negation) that clipaware routes
around. They are never the probe sentences of :mod:`clipaware.eval.shapes.probes`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from clipaware.eval.shapes.scenes import COLOURS, MAX_OBJECTS, SCENE_SIZE, SHAPES, SIZES, SceneObject
from clipaware.words import NUMBER_WORDS

PREFIXES = ("", "", "", "a picture of ", "image of ", "clipart of ", "an illustration of ", "simple ")
SUFFIXES = (
    "",
    "",
    "",
    " on a white background",
    " on a light background",
    " , flat design",
    " , vector graphic",
    " shapes",
)


def plural(shape: str) -> str:
    """``circle`` → ``circles`` (all shape names here take a plain ``s``)."""
    return shape + "s"


def _where(obj: SceneObject) -> str:
    """A coarse position word, as an alt-text writer might add it."""
    cx, cy = obj.centre
    third = SCENE_SIZE / 3
    if cx < third:
        return "on the left"
    if cx > 2 * third:
        return "on the right"
    if cy < third:
        return "at the top"
    if cy > 2 * third:
        return "at the bottom"
    return "in the middle"


def _object_phrase(obj: SceneObject, rng: np.random.Generator) -> str:
    words = []
    if rng.random() < 0.25:
        words.append(obj.size)
    words += [obj.colour, obj.shape]
    phrase = " ".join(words)
    article = "an" if phrase[0] in "aeiou" else "a"
    if rng.random() < 0.7:
        phrase = f"{article} {phrase}"
    if rng.random() < 0.12:
        phrase += " " + _where(obj)
    return phrase


def _join(parts: list[str], rng: np.random.Generator) -> str:
    if len(parts) == 1:
        return parts[0]
    sep = " , " if rng.random() < 0.6 else " and "
    return sep.join(parts[:-1]) + " and " + parts[-1]


def alt_text(objects: Sequence[SceneObject], rng: np.random.Generator) -> str:
    """One random alt-text caption for a scene's ``objects``: each named with its colour, in random order.

    About one caption in four groups identical colour+shape objects under a count ("two red circles"),
    one in ten states the total ("four shapes : ..."), one in eight adds a coarse position to an object.
    """
    objects = list(objects)
    order = rng.permutation(len(objects))
    if rng.random() < 0.25:
        groups = Counter((objects[i].colour, objects[i].shape) for i in order)
        parts = []
        for (colour, shape), k in groups.items():
            parts.append(f"{NUMBER_WORDS[k]} {colour} {plural(shape)}" if k > 1 else f"a {colour} {shape}")
    else:
        parts = [_object_phrase(objects[i], rng) for i in order]
    body = _join(parts, rng)
    if rng.random() < 0.1:
        n = len(objects)
        body = f"{NUMBER_WORDS[n]} {'shape' if n == 1 else 'shapes'} : {body}"
    prefix = PREFIXES[int(rng.integers(len(PREFIXES)))]
    suffix = SUFFIXES[int(rng.integers(len(SUFFIXES)))]
    return f"{prefix}{body}{suffix}".strip()


def caption_vocabulary() -> list[str]:
    """Every word the training captions and the probes may use, so the word tokenizer never sees unknowns."""
    words = set(COLOURS) | set(SHAPES) | {plural(s) for s in SHAPES} | set(SIZES) | set(NUMBER_WORDS[: MAX_OBJECTS + 1])
    extra = """a an the of and with on in at to left right top bottom middle picture image clipart
    illustration simple white light background flat design vector graphic shapes shape , : . ? photo scene
    no not without how many are there is exactly above below under over next beside yes any only
    some""".split()
    for text in PREFIXES + SUFFIXES:
        extra += text.split()
    return sorted(words | set(extra))
