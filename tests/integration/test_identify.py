"""The identify route on a tiny DINOv2 saved with save_pretrained and a real labelled gallery."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from clipaware.errors import ModelNotAvailableError, UsageError
from clipaware.models.features import FeatureModel
from clipaware.routes.identify import build_gallery, identify
from clipaware.testing import save_tiny_model

SUBJECTS = {"astronaut": data.astronaut(), "coffee": data.coffee(), "cat": data.chelsea()}


def _crop(arr: np.ndarray, shift: int) -> Image.Image:
    h, w = arr.shape[:2]
    side = min(h, w) * 3 // 4
    return Image.fromarray(arr[shift : shift + side, shift : shift + side])


@pytest.fixture(scope="module")
def dino(tmp_path_factory: pytest.TempPathFactory) -> FeatureModel:
    return FeatureModel.load(str(save_tiny_model(tmp_path_factory.mktemp("m") / "dino", "dinov2", image_size=64)))


@pytest.fixture()
def gallery_dir(tmp_path: Path) -> Path:
    for label, arr in SUBJECTS.items():
        (tmp_path / "gallery" / label).mkdir(parents=True)
        for shift in (0, 20, 40):
            _crop(arr, shift).save(tmp_path / "gallery" / label / f"{shift}.png")
    return tmp_path / "gallery"


def test_features_are_unit_and_deterministic(dino: FeatureModel) -> None:
    imgs = [_crop(a, 0) for a in SUBJECTS.values()]
    vecs = dino.encode_images(imgs)
    assert vecs.shape == (3, dino.embedding_dim)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(dino.encode_images(imgs, batch_size=1), vecs, atol=1e-5)


def test_unseen_crop_is_identified_with_neighbours_as_evidence(dino: FeatureModel, gallery_dir: Path) -> None:
    gallery = build_gallery(gallery_dir, dino)
    assert gallery.identities == ("astronaut", "cat", "coffee") and len(gallery.paths) == 9
    for label, arr in SUBJECTS.items():
        result = identify(_crop(arr, 30), gallery, dino, k=3)
        assert result.label == label
        assert 1 / 3 < result.score <= 1 and result.neighbours[0].label == label
        assert result.to_dict()["neighbours"][0]["path"].startswith(str(gallery_dir / label))


def test_gallery_problems_are_explained(dino: FeatureModel, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="one sub-folder per identity"):
        build_gallery(tmp_path / "missing", dino)
    (tmp_path / "flat").mkdir()
    _crop(data.coffee(), 0).save(tmp_path / "flat" / "x.png")  # images but no label folders
    with pytest.raises(UsageError, match="no labelled images"):
        build_gallery(tmp_path / "flat", dino)


def test_one_image_gallery_answers_with_a_note(dino: FeatureModel, tmp_path: Path) -> None:
    (tmp_path / "g" / "only").mkdir(parents=True)
    _crop(data.coffee(), 0).save(tmp_path / "g" / "only" / "a.png")
    (tmp_path / "g" / "only" / "broken.jpg").write_text("no")
    gallery = build_gallery(tmp_path / "g", dino)
    assert gallery.skipped and "not an image" in gallery.skipped[0].reason
    result = identify(_crop(data.astronaut(), 0), gallery, dino)
    assert result.label == "only" and "one identity" in result.note and len(result.neighbours) == 1


def test_a_clip_folder_is_not_a_feature_model(tiny_clip_dir: Path) -> None:
    with pytest.raises(ModelNotAvailableError, match="not a DINOv2"):
        FeatureModel.load(str(tiny_clip_dir))
