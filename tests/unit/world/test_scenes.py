"""The scene generator: deterministic, non-overlapping, and its ground truth matches the pixels."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from clipaware.world.scenes import (
    COLOURS,
    SCENE_SIZE,
    SHAPES,
    SIZES,
    ObjectSpec,
    PlacementError,
    generate_scenes,
    make_scene,
)


def test_same_seed_same_pixels_and_truth() -> None:
    a, b = generate_scenes(5, seed=11), generate_scenes(5, seed=11)
    assert [s.to_dict() for s in a] == [s.to_dict() for s in b]
    assert all(np.array_equal(np.asarray(x.image), np.asarray(y.image)) for x, y in zip(a, b, strict=True))


def test_different_seeds_differ() -> None:
    a, b = generate_scenes(5, seed=1), generate_scenes(5, seed=2)
    assert [s.to_dict() for s in a] != [s.to_dict() for s in b]


def test_scenes_cover_the_vocabulary_with_one_to_six_objects() -> None:
    scenes = generate_scenes(300, seed=0)
    counts = Counter(len(s.objects) for s in scenes)
    assert set(counts) == {1, 2, 3, 4, 5, 6}
    objects = [o for s in scenes for o in s.objects]
    assert {o.shape for o in objects} == set(SHAPES)
    assert {o.colour for o in objects} == set(COLOURS)
    assert {o.size for o in objects} == set(SIZES)
    assert {s.texture for s in scenes} == {"plain", "noise", "stripes"}


def test_objects_are_inside_the_canvas_and_never_touch() -> None:
    for scene in generate_scenes(100, seed=3):
        assert scene.image.size == (SCENE_SIZE, SCENE_SIZE)
        boxes = [o.box for o in scene.objects]
        for x0, y0, x1, y1 in boxes:
            assert 0 <= x0 < x1 <= SCENE_SIZE and 0 <= y0 < y1 <= SCENE_SIZE
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
                assert apart, (a, b)


def test_ground_truth_box_is_the_tight_box_of_the_drawn_colour() -> None:
    for scene in generate_scenes(40, seed=5):
        pixels = np.asarray(scene.image).astype(int)
        for obj in scene.objects:
            x0, y0, x1, y1 = obj.box
            same = np.abs(pixels - np.array(COLOURS[obj.colour])).max(axis=2) == 0
            ys, xs = np.nonzero(same[y0:y1, x0:x1])
            assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == (0, 0, x1 - x0, y1 - y0)
        for colour in {o.colour for o in scene.objects}:
            # a colour appears nowhere outside the boxes of the objects that have it
            same = np.abs(pixels - np.array(COLOURS[colour])).max(axis=2) == 0
            for o in scene.objects:
                if o.colour == colour:
                    same[o.box[1] : o.box[3], o.box[0] : o.box[2]] = False
            assert not same.any()


def test_large_objects_are_larger_than_small_ones() -> None:
    objects = [o for s in generate_scenes(100, seed=8) for o in s.objects]
    small = max(o.box[2] - o.box[0] for o in objects if o.size == "small" and o.shape == "square")
    large = min(o.box[2] - o.box[0] for o in objects if o.size == "large" and o.shape == "square")
    assert small < large


def test_regions_confine_objects() -> None:
    rng = np.random.default_rng(0)
    left = (0, 0, SCENE_SIZE // 2, SCENE_SIZE)
    for _ in range(20):
        scene = make_scene(rng, [ObjectSpec("circle", "red", "large", left), ObjectSpec("star", "blue", "small")])
        assert scene.objects[0].box[2] <= SCENE_SIZE // 2
        assert scene.count("circle", "red") == 1 and scene.count(colour="blue") == 1


def test_impossible_layouts_raise_a_clear_error() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(PlacementError):
        make_scene(rng, [ObjectSpec("square", "red", "large", (0, 0, 30, 30))])
    with pytest.raises(PlacementError):
        make_scene(rng, [ObjectSpec("square", "red", "large") for _ in range(14)])


def test_write_scenes_writes_pngs_and_what_each_shows(tmp_path) -> None:
    from PIL import Image

    from clipaware.world.scenes import describe_scene, generate_scenes, write_scenes

    written = write_scenes(tmp_path / "demo", n=3, seed=5)
    assert [p.name for p in written.files] == ["scene-00.png", "scene-01.png", "scene-02.png"]
    lines = written.listing.read_text().splitlines()
    expected = [describe_scene(s) for s in generate_scenes(3, seed=5)]  # same seed, same scenes
    assert lines[1:] == [f"scene-{i:02d}.png: {shows}" for i, shows in enumerate(expected)]
    assert all(Image.open(p).size == (224, 224) for p in written.files)
    again = write_scenes(tmp_path / "again", n=3, seed=5)
    assert again.files[2].read_bytes() == written.files[2].read_bytes()
    assert written.to_dict()["scenes"][0]["shows"] == expected[0]
