"""ClipModel on tiny CLIP / SigLIP models saved with save_pretrained and loaded through the real loader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data
from tests.conftest import ENGINE
from transformers import AutoImageProcessor, AutoModel, AutoTokenizer

from clipaware import ClipModel
from clipaware.errors import ImageLoadError, ModelNotAvailableError


@pytest.fixture(scope="module")
def photos() -> list[Image.Image]:
    return [Image.fromarray(a) for a in (data.astronaut(), data.coffee(), data.chelsea(), data.rocket())]


@pytest.fixture(scope="module")
def clip(tiny_clip_dir: Path) -> ClipModel:
    return ClipModel.load(tiny_clip_dir, **ENGINE)


def test_vectors_are_unit_float32_and_deterministic(clip: ClipModel, tiny_clip_dir: Path, photos) -> None:
    first = clip.encode_images(photos)
    assert first.dtype == np.float32 and first.shape == (4, clip.embedding_dim)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    again = ClipModel.load(tiny_clip_dir, **ENGINE).encode_images(photos)
    np.testing.assert_array_equal(first, again)
    texts = clip.encode_texts(["a photo of a cat.", "a red car"])
    np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(first[0], first[1])  # would fail if the model ignored its input


def test_batch_size_does_not_change_vectors(clip: ClipModel, photos) -> None:
    np.testing.assert_allclose(
        clip.encode_images(photos, batch_size=1), clip.encode_images(photos, batch_size=3), atol=1e-5
    )
    texts = ["a dog", "a photo of the small cat.", "city at sunset"]
    np.testing.assert_allclose(clip.encode_texts(texts, batch_size=1), clip.encode_texts(texts), atol=1e-5)


@pytest.mark.parametrize("fixture", ["tiny_clip_dir", "tiny_siglip_dir"])
def test_vectors_equal_a_direct_transformers_call(fixture: str, request: pytest.FixtureRequest, photos) -> None:
    folder = request.getfixturevalue(fixture)
    ours = ClipModel.load(folder, **ENGINE)
    model = AutoModel.from_pretrained(folder).eval()
    processor = AutoImageProcessor.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    with torch.no_grad():
        out = model.get_image_features(**processor(images=photos, return_tensors="pt"))
        direct = getattr(out, "pooler_output", out)
        kwargs = {"padding": "max_length", "max_length": 64} if ours.family == "siglip" else {"padding": True}
        tout = model.get_text_features(**tokenizer(["a red cat", "two dogs"], return_tensors="pt", **kwargs))
        direct_text = getattr(tout, "pooler_output", tout)
    direct = torch.nn.functional.normalize(direct, dim=-1).numpy()
    direct_text = torch.nn.functional.normalize(direct_text, dim=-1).numpy()
    np.testing.assert_allclose(ours.encode_images(photos), direct, atol=1e-5)
    np.testing.assert_allclose(ours.encode_texts(["a red cat", "two dogs"]), direct_text, atol=1e-5)


def test_paths_and_pil_images_give_the_same_vectors(clip: ClipModel, tmp_path: Path, photos) -> None:
    path = tmp_path / "coffee.png"
    photos[1].save(path)
    np.testing.assert_allclose(clip.encode_images([path]), clip.encode_images([photos[1]]), atol=1e-6)


def test_bad_image_raises_a_named_error(clip: ClipModel, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_text("nope")
    with pytest.raises(ImageLoadError, match=r"bad\.jpg"):
        clip.encode_images([bad])


def test_empty_inputs_give_empty_arrays(clip: ClipModel) -> None:
    assert clip.encode_images([]).shape == (0, clip.embedding_dim)
    assert clip.encode_texts([]).shape == (0, clip.embedding_dim)


def test_clip_softmax_sums_to_one_and_siglip_sigmoid_does_not(clip: ClipModel, tiny_siglip_dir: Path, photos) -> None:
    labels = ["a cat", "a dog", "a car"]
    probs = clip.probabilities(clip.logits(clip.encode_images(photos), clip.encode_texts(labels)))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    siglip = ClipModel.load(tiny_siglip_dir, **ENGINE)
    assert siglip.uses_sigmoid and siglip.logit_bias == pytest.approx(-10.0)
    sprobs = siglip.probabilities(siglip.logits(siglip.encode_images(photos), siglip.encode_texts(labels)))
    assert ((sprobs > 0) & (sprobs < 1)).all()
    assert not np.allclose(sprobs.sum(axis=1), 1.0)


def test_logits_use_the_learned_scale(clip: ClipModel, photos) -> None:
    img, txt = clip.encode_images(photos[:1]), clip.encode_texts(["a cat"])
    expected = float(clip.model.logit_scale.detach().exp()) * float((img @ txt.T)[0, 0])
    assert clip.logits(img, txt)[0, 0] == pytest.approx(expected, rel=1e-5)


def test_a_detector_folder_is_not_an_image_text_model(tmp_path: Path) -> None:
    from transformers import DetrConfig

    DetrConfig(use_timm_backbone=False, backbone_config={"model_type": "resnet"}).save_pretrained(tmp_path)
    with pytest.raises(ModelNotAvailableError, match="not an image-text"):
        ClipModel.load(tmp_path, **ENGINE)


@pytest.mark.parametrize("fixture", ["tiny_clip_dir", "tiny_siglip_dir"])
def test_patch_similarity_is_a_grid_of_cosines_that_depends_on_the_text(fixture: str, request, photos) -> None:
    model = ClipModel.load(request.getfixturevalue(fixture), **ENGINE)
    grid = model.patch_similarity(photos[0], "a photo of a cat.")
    side = model.image_size // 8  # the tiny models use 8-pixel patches
    assert grid.shape == (side, side) and np.abs(grid).max() <= 1.0 + 1e-5
    assert not np.allclose(grid, model.patch_similarity(photos[0], "a red car"))


def test_render_draws_boxes_and_heat(photos, tmp_path: Path) -> None:
    from clipaware.render import draw_boxes, heat_overlay, save_png, side_by_side

    img = photos[1]
    boxed = draw_boxes(img, [("cup", (10, 10, 100, 100))])
    assert boxed.getpixel((10, 50)) != img.getpixel((10, 50))  # the outline was drawn
    hot = heat_overlay(img, np.array([[0.0, 1.0], [0.0, 0.0]], np.float32))
    w, h = img.size
    assert hot.getpixel((w * 3 // 4, h // 4))[0] >= img.getpixel((w * 3 // 4, h // 4))[0]
    assert hot.getpixel((w // 4, h * 3 // 4)) == img.getpixel((w // 4, h * 3 // 4))  # cold corner untouched
    path = save_png(side_by_side(boxed, hot), tmp_path / "out" / "report.png")
    assert Image.open(path).size == (2 * w + 8, h)


def test_a_word_level_model_says_which_words_it_can_read(clip: ClipModel) -> None:
    assert clip.knows("red") and clip.knows("cat")
    assert not clip.knows("magenta")  # not in the tiny model's vocabulary: it would read [UNK]
