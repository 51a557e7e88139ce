"""ShapeDetector: shape labels and boxes (never colour) on hand-drawn and generated scenes."""

from __future__ import annotations

from collections import Counter
from dataclasses import FrozenInstanceError

import numpy as np
import pytest
from PIL import Image, ImageDraw

from clipaware.eval.shapes.detect import ShapeDetector
from clipaware.eval.shapes.scenes import generate_scenes
from clipaware.models.detect import Detection, Detector


@pytest.fixture(scope="module")
def detector() -> ShapeDetector:
    return ShapeDetector()


def _hand_made() -> Image.Image:
    image = Image.new("RGB", (200, 120), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 49, 49), fill=(200, 0, 0))  # square, box (10, 10, 50, 50)
    draw.ellipse((70, 20, 119, 69), fill=(0, 0, 200))  # circle, box (70, 20, 120, 70)
    draw.polygon([(160, 60), (190, 110), (130, 110)], fill=(0, 120, 0))  # triangle, box (130, 60, 191, 111)
    return image


def test_hand_made_scene_labels_and_boxes(detector: ShapeDetector) -> None:
    found = {d.label: d for d in detector.detect(_hand_made())}
    assert set(found) == {"square", "circle", "triangle"}
    assert found["square"].box == (10, 10, 50, 50)
    assert found["circle"].box == (70, 20, 120, 70)
    assert found["triangle"].box == (130, 60, 191, 111)
    assert all(0.5 < d.score <= 1.0 for d in found.values())


def test_detections_carry_no_colour(detector: ShapeDetector) -> None:
    red, blue = _hand_made(), _hand_made()
    blue_pixels = np.asarray(blue).copy()
    blue_pixels[np.all(blue_pixels == (200, 0, 0), axis=2)] = (0, 0, 200)
    assert detector.detect(red) == detector.detect(Image.fromarray(blue_pixels))
    assert set(Detection("circle", 1.0, (0, 0, 1, 1)).to_dict()) == {"label", "score", "box"}


def test_labels_filter_accepts_plurals(detector: ShapeDetector) -> None:
    assert [d.label for d in detector.detect(_hand_made(), labels=["circles"])] == ["circle"]
    assert {d.label for d in detector.detect(_hand_made(), labels=["square", "triangle"])} == {"square", "triangle"}
    assert detector.detect(_hand_made(), labels=["dog"]) == []
    assert len(detector.detect(_hand_made(), labels=["shapes"])) == 3


def test_empty_and_textured_backgrounds_give_nothing(detector: ShapeDetector) -> None:
    rng = np.random.default_rng(0)
    noise = np.clip(240 + rng.integers(-6, 7, size=(96, 96, 3)), 0, 255).astype(np.uint8)
    assert detector.detect(Image.new("RGB", (64, 64), (255, 255, 255))) == []
    assert detector.detect(noise) == []


def test_accepts_arrays_and_paths(detector: ShapeDetector, tmp_path) -> None:
    path = tmp_path / "scene.png"
    _hand_made().save(path)
    expected = detector.detect(_hand_made())
    assert detector.detect(np.asarray(_hand_made())) == expected
    assert detector.detect(path) == expected
    assert detector.detect(str(path)) == expected


def test_detection_is_frozen_and_serialises() -> None:
    d = Detection("star", 0.91234567, (1, 2, 3, 4))
    with pytest.raises(FrozenInstanceError):
        d.label = "circle"  # type: ignore[misc]
    assert d.to_dict() == {"label": "star", "score": 0.9123, "box": [1.0, 2.0, 3.0, 4.0]}
    assert d.centre == (2.0, 3.0)
    assert isinstance(ShapeDetector(), Detector)


def test_exact_counts_and_boxes_on_200_generated_scenes(detector: ShapeDetector) -> None:
    scenes = generate_scenes(200, seed=2024)
    exact_counts = exact_boxes = 0
    for scene in scenes:
        found = detector.detect(scene.image)
        exact_counts += Counter(d.label for d in found) == Counter(o.shape for o in scene.objects)
        truth = sorted((o.shape, o.box) for o in scene.objects)
        exact_boxes += sorted((d.label, tuple(int(v) for v in d.box)) for d in found) == truth
    assert exact_counts / len(scenes) >= 0.98
    assert exact_boxes / len(scenes) >= 0.98
