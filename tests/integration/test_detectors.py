"""DETR and OWLv2 through the Detector protocol, on tiny random models saved and loaded for real."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from skimage import data

from clipaware.errors import ModelNotAvailableError, UsageError
from clipaware.models.detect import Detector, DetrDetector, Owlv2Detector, load_detector
from clipaware.testing import save_tiny_model


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("detectors")
    return {kind: save_tiny_model(root / kind, kind, image_size=64) for kind in ("detr", "owlv2")}


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return Image.fromarray(data.astronaut()[:300, :450])


def _inside(det, img: Image.Image) -> bool:
    x0, y0, x1, y1 = det.box
    return 0 <= x0 < x1 <= img.width + 1e-3 and 0 <= y0 < y1 <= img.height + 1e-3


def test_detr_returns_coco_labels_in_image_pixels(folders, photo) -> None:
    detector = DetrDetector(str(folders["detr"]), threshold=0.0)
    assert isinstance(detector, Detector)
    found = detector.detect(photo)
    assert found and all(_inside(d, photo) for d in found)
    assert {d.label for d in found} <= set(detector.model.config.id2label.values())
    assert all(0 <= d.score <= 1 for d in found)
    strict = DetrDetector(str(folders["detr"]), threshold=0.99).detect(photo)
    assert all(d.score >= 0.99 for d in strict) and len(strict) <= len(found)


def test_detr_label_filter_speaks_the_users_words(folders, photo) -> None:
    detector = DetrDetector(str(folders["detr"]), threshold=0.0)
    every = detector.detect(photo)
    wanted = every[0].label
    only = detector.detect(photo, labels=[wanted])
    assert only and {d.label for d in only} == {wanted}
    if wanted == "person":
        assert {d.label for d in detector.detect(photo, labels=["people"])} == {"people"}


def test_owlv2_finds_only_what_it_is_asked_for(folders, photo) -> None:
    detector = Owlv2Detector(str(folders["owlv2"]), threshold=0.0)
    found = detector.detect(photo, labels=["unicorn", "red kite"])
    assert found and {d.label for d in found} <= {"unicorn", "red kite"}
    assert all(_inside(d, photo) for d in found)
    with pytest.raises(UsageError, match="needs the names"):
        detector.detect(photo)


def test_load_detector_dispatches_on_the_folder_model_type(folders, photo) -> None:
    detr, owl = load_detector(str(folders["detr"])), load_detector(str(folders["owlv2"]))
    assert isinstance(detr, DetrDetector) and isinstance(owl, Owlv2Detector)
    assert detr.threshold == 0.7 and owl.threshold == 0.2  # each family's own default
    # the loaded detector is the model in that folder: it finds what the directly built one finds
    direct = DetrDetector(str(folders["detr"]), threshold=0.0).detect(photo)
    detr.threshold = 0.0
    assert [(d.label, d.box) for d in detr.detect(photo)] == [(d.label, d.box) for d in direct] and direct
    direct = Owlv2Detector(str(folders["owlv2"]), threshold=0.0).detect(photo, labels=["kite"])
    owl.threshold = 0.0
    assert [(d.label, d.box) for d in owl.detect(photo, labels=["kite"])] == [(d.label, d.box) for d in direct]


def test_wrong_or_missing_detector_models_are_clear_errors(folders, tiny_clip_dir: Path, empty_hub_cache) -> None:
    with pytest.raises(ModelNotAvailableError, match="not a detr detector"):
        DetrDetector(str(folders["owlv2"]))
    with pytest.raises(UsageError, match="expected auto, detr, owlv2"):
        load_detector(str(tiny_clip_dir))
    with pytest.raises(ModelNotAvailableError, match="models pull"):
        load_detector("detr")  # the real facebook/detr-resnet-50 is not in an empty cache


def test_a_timm_backbone_detr_is_refused_with_the_way_out(tmp_path: Path) -> None:
    from transformers import DetrConfig

    DetrConfig(use_timm_backbone=True).save_pretrained(tmp_path)
    with pytest.raises(ModelNotAvailableError, match="no_timm"):
        DetrDetector(str(tmp_path))
