"""Synthetic scenes: coloured shapes on light backgrounds, with exact ground truth per object.

Real benchmarks cannot be downloaded here, and even where they can, their labels are noisy. A scene that we
draw ourselves has a perfect answer for every question clipaware is asked (how many, where, which colour on
which shape), so it can both train a small CLIP and measure whether routing beats CLIP. Everything is
driven by a ``numpy.random.Generator`` so that the same seed always draws the same pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SCENE_SIZE = 224
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star")
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 150, 50),
    "blue": (35, 75, 225),
    "yellow": (240, 205, 20),
    "orange": (245, 135, 20),
    "purple": (135, 45, 170),
    "black": (20, 20, 20),
    "grey": (128, 128, 128),
}
# Side of the object's bounding box in pixels, before a small random jitter (± SIZE_JITTER).
SIZES: dict[str, int] = {"small": 34, "large": 60}
SIZE_JITTER = 3
# Free pixels kept between any two objects, so that no two objects touch (the detector relies on it).
GAP = 6
MARGIN = 4
# Light background tints; all are far from every object colour (the smallest distance is grey's, ~100).
BACKGROUNDS: tuple[tuple[int, int, int], ...] = (
    (250, 250, 250),
    (244, 240, 228),
    (236, 240, 245),
    (238, 238, 238),
    (246, 238, 240),
    (236, 244, 236),
)
TEXTURE_AMPLITUDE = 6  # mild noise / stripes: enough to break flat colour, far below object contrast

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class SceneObject:
    """One drawn object and its ground truth; ``box`` is (x0, y0, x1, y1), inclusive-exclusive, in pixels."""

    shape: str
    colour: str
    size: str
    box: Box

    @property
    def centre(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2, (y0 + y1) / 2

    @property
    def phrase(self) -> str:
        """``"red circle"``: how captions and probes name this object."""
        return f"{self.colour} {self.shape}"

    def to_dict(self) -> dict:
        return {"shape": self.shape, "colour": self.colour, "size": self.size, "box": list(self.box)}


@dataclass(frozen=True)
class ObjectSpec:
    """What to draw before it is placed; ``region`` (x0, y0, x1, y1) confines the whole object when set."""

    shape: str
    colour: str
    size: str
    region: Box | None = None


@dataclass(frozen=True)
class Scene:
    """A rendered scene: the RGB image plus the objects drawn on it and the background used."""

    image: Image.Image = field(compare=False, repr=False)
    objects: tuple[SceneObject, ...]
    background: tuple[int, int, int]
    texture: str

    def count(self, shape: str | None = None, colour: str | None = None) -> int:
        """Ground-truth number of objects matching a shape and/or colour (``None`` matches any)."""
        return sum(
            1 for o in self.objects if (shape is None or o.shape == shape) and (colour is None or o.colour == colour)
        )

    def to_dict(self) -> dict:
        return {
            "objects": [o.to_dict() for o in self.objects],
            "background": list(self.background),
            "texture": self.texture,
        }


class PlacementError(RuntimeError):
    """The objects asked for do not fit without overlap (after many random tries)."""


def random_spec(rng: np.random.Generator, shapes: Sequence[str] = SHAPES) -> ObjectSpec:
    """A uniformly random shape, colour and size."""
    return ObjectSpec(
        shape=str(rng.choice(list(shapes))),
        colour=str(rng.choice(list(COLOURS))),
        size=str(rng.choice(list(SIZES))),
    )


def random_specs(rng: np.random.Generator, n_objects: int | None = None) -> list[ObjectSpec]:
    """1–6 uniformly random objects (or exactly ``n_objects``)."""
    n = int(rng.integers(1, 7)) if n_objects is None else n_objects
    return [random_spec(rng) for _ in range(n)]


def _overlaps(a: Box, b: Box, gap: int) -> bool:
    return not (a[2] + gap <= b[0] or b[2] + gap <= a[0] or a[3] + gap <= b[1] or b[3] + gap <= a[1])


def place(rng: np.random.Generator, specs: Sequence[ObjectSpec], tries: int = 400) -> list[Box]:
    """Non-overlapping boxes for ``specs``, large objects first so that crowded scenes still fit.

    Raises :class:`PlacementError` when some object cannot be placed; callers draw new specs or a new seed.
    """
    order = sorted(range(len(specs)), key=lambda i: -SIZES[specs[i].size])
    boxes: dict[int, Box] = {}
    for i in order:
        spec = specs[i]
        side = SIZES[spec.size] + int(rng.integers(-SIZE_JITTER, SIZE_JITTER + 1))
        rx0, ry0, rx1, ry1 = spec.region or (0, 0, SCENE_SIZE, SCENE_SIZE)
        lo_x, hi_x = max(rx0, MARGIN), min(rx1, SCENE_SIZE - MARGIN) - side
        lo_y, hi_y = max(ry0, MARGIN), min(ry1, SCENE_SIZE - MARGIN) - side
        if hi_x < lo_x or hi_y < lo_y:
            raise PlacementError(f"region {spec.region} too small for a {spec.size} object")
        for _ in range(tries):
            x0, y0 = int(rng.integers(lo_x, hi_x + 1)), int(rng.integers(lo_y, hi_y + 1))
            box = (x0, y0, x0 + side, y0 + side)
            if not any(_overlaps(box, other, GAP) for other in boxes.values()):
                boxes[i] = box
                break
        else:
            raise PlacementError(f"could not place {len(specs)} objects without overlap")
    return [boxes[i] for i in range(len(specs))]


def _star_points(box: Box) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1 - 1) / 2, (y0 + y1 - 1) / 2
    outer = (x1 - x0 - 1) / 2
    inner = outer * 0.42
    points = []
    for k in range(10):
        radius = outer if k % 2 == 0 else inner
        angle = -math.pi / 2 + k * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return points


def _draw(image: Image.Image, shape: str, box: Box, rgb: tuple[int, int, int]) -> Box:
    """Draw one shape inside the nominal ``box`` and return the tight pixel box of what was drawn.

    The tight box is the ground truth: a star or triangle does not fill its nominal square, and a detector
    is judged against the pixels it can see.
    """
    x0, y0, x1, y1 = box
    # Draw on a mask the size of the box only (pasting a full-canvas mask per object is the slow part);
    # integer translation leaves the rasterised pixels unchanged.
    mask = Image.new("L", (x1 - x0, y1 - y0), 0)
    draw = ImageDraw.Draw(mask)
    w, h = x1 - x0, y1 - y0
    if shape == "circle":
        draw.ellipse((0, 0, w - 1, h - 1), fill=255)
    elif shape == "square":
        draw.rectangle((0, 0, w - 1, h - 1), fill=255)
    elif shape == "triangle":
        draw.polygon([((w - 1) / 2, 0), (w - 1, h - 1), (0, h - 1)], fill=255)
    elif shape == "star":
        draw.polygon(_star_points((0, 0, w, h)), fill=255)
    else:
        raise ValueError(f"unknown shape {shape!r}; expected one of {SHAPES}")
    image.paste(rgb, (x0, y0, x1, y1), mask=mask)
    tight = mask.getbbox()
    assert tight is not None  # every shape has a positive size
    return (x0 + tight[0], y0 + tight[1], x0 + tight[2], y0 + tight[3])


def _background(rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int, int], str]:
    base = BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))]
    texture = str(rng.choice(["plain", "noise", "stripes"]))
    canvas = np.empty((SCENE_SIZE, SCENE_SIZE, 3), dtype=np.int16)
    canvas[:] = base
    if texture == "noise":
        canvas += rng.integers(-TEXTURE_AMPLITUDE, TEXTURE_AMPLITUDE + 1, size=canvas.shape, dtype=np.int16)
    elif texture == "stripes":
        period = int(rng.integers(8, 24))
        axis = int(rng.integers(2))
        phase = 2 * np.pi * np.arange(SCENE_SIZE) / period
        wave = np.round(TEXTURE_AMPLITUDE * np.sin(phase)).astype(np.int16)
        canvas += wave[:, None, None] if axis == 0 else wave[None, :, None]
    return np.clip(canvas, 0, 255).astype(np.uint8), base, texture


def render_scene(rng: np.random.Generator, specs: Sequence[ObjectSpec]) -> Scene:
    """Place and draw ``specs`` on a random light background; raises :class:`PlacementError` if crowded."""
    boxes = place(rng, specs)
    canvas, base, texture = _background(rng)
    image = Image.fromarray(canvas, "RGB")
    objects = []
    for spec, box in zip(specs, boxes, strict=True):
        tight = _draw(image, spec.shape, box, COLOURS[spec.colour])
        objects.append(SceneObject(spec.shape, spec.colour, spec.size, tight))
    return Scene(image=image, objects=tuple(objects), background=base, texture=texture)


def make_scene(
    rng: np.random.Generator, specs: Sequence[ObjectSpec] | None = None, n_objects: int | None = None
) -> Scene:
    """A scene of ``specs`` (or 1–6 random objects), retrying placement; crowded random specs are redrawn."""
    for _ in range(50):
        chosen = list(specs) if specs is not None else random_specs(rng, n_objects)
        try:
            return render_scene(rng, chosen)
        except PlacementError:
            continue
    raise PlacementError("gave up placing objects after 50 layouts; ask for fewer or smaller objects")


def generate_scenes(n: int, seed: int = 0, n_objects: int | None = None) -> list[Scene]:
    """``n`` random scenes from one seed: the same seed always gives the same scenes."""
    rng = np.random.default_rng(seed)
    return [make_scene(rng, n_objects=n_objects) for _ in range(n)]


def describe_scene(scene: Scene) -> str:
    """The objects of a scene in words, left to right: ``"a large red circle, a small blue square"``."""
    ordered = sorted(scene.objects, key=lambda o: o.centre)
    return ", ".join(f"a {o.size} {o.colour} {o.shape}" for o in ordered)


@dataclass(frozen=True)
class WrittenScenes:
    """What :func:`write_scenes` wrote: the folder, one PNG per scene, and the index of what each shows."""

    folder: Path
    files: tuple[Path, ...]
    scenes: tuple[Scene, ...]
    listing: Path

    def to_dict(self) -> dict:
        return {
            "folder": str(self.folder),
            "listing": str(self.listing),
            "scenes": [
                {"path": str(path), "shows": describe_scene(scene), **scene.to_dict()}
                for path, scene in zip(self.files, self.scenes, strict=True)
            ],
        }


def write_scenes(folder: str | Path, n: int = 12, seed: int = 0) -> WrittenScenes:
    """Write ``n`` seeded scenes as ``scene-00.png``… into ``folder``, with ``scenes.txt`` saying what each shows.

    Something to try clipaware on with no download and no photos of your own: index the folder with the
    shipped shapes CLIP (``--model shapes``) and ask about it with ``--detector shapes``; ``scenes.txt`` is the
    ground truth to compare the answers with. The same seed always writes the same pixels.
    """
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    scenes = generate_scenes(n, seed=seed)
    width = max(2, len(str(n - 1)))
    files = []
    lines = [f"# {n} shapes-world scenes, seed {seed}; objects listed left to right"]
    for number, scene in enumerate(scenes):
        path = folder / f"scene-{number:0{width}d}.png"
        scene.image.save(path)
        files.append(path)
        lines.append(f"{path.name}: {describe_scene(scene)}")
    listing = folder / "scenes.txt"
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return WrittenScenes(folder, tuple(files), tuple(scenes), listing)
