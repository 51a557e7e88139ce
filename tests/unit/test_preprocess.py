"""Fast preprocessing equals the image processor; draft decoding changes pixels only as a resize would."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from skimage import data
from transformers import CLIPImageProcessor, SiglipImageProcessor

from clipaware.images import decode_image
from clipaware.models.preprocess import FastPreprocessor
from clipaware.testing import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD


@pytest.fixture(scope="module")
def photos() -> list[Image.Image]:
    arrays = (data.astronaut(), data.coffee(), data.chelsea(), data.rocket())
    odd = [
        Image.new("RGB", (3, 500), (200, 10, 10)),
        Image.fromarray(data.camera()).convert("RGB").crop((0, 0, 701, 5)),
    ]
    return [Image.fromarray(a) for a in arrays] + odd


PROCESSORS = {
    "clip-224": CLIPImageProcessor(
        size={"shortest_edge": 224},
        crop_size={"height": 224, "width": 224},
        image_mean=list(OPENAI_CLIP_MEAN),
        image_std=list(OPENAI_CLIP_STD),
    ),
    "clip-tiny": CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
    "siglip": SiglipImageProcessor(size={"height": 64, "width": 64}),
}


@pytest.mark.parametrize("name", list(PROCESSORS))
def test_fast_preprocessing_equals_the_processor(name: str, photos: list[Image.Image]) -> None:
    processor = PROCESSORS[name]
    fast = FastPreprocessor.from_processor(processor)
    assert fast is not None
    expected = processor(images=photos, return_tensors="np")["pixel_values"]
    ours = fast.batch(photos)
    assert ours.dtype == np.float32 and ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_unusual_processors_keep_the_processor() -> None:
    crop_bigger_than_resize = CLIPImageProcessor(size={"shortest_edge": 16}, crop_size={"height": 32, "width": 32})
    assert FastPreprocessor.from_processor(crop_bigger_than_resize) is None
    assert FastPreprocessor.from_processor(CLIPImageProcessor(do_resize=False)) is None
    assert FastPreprocessor.from_processor(None) is None


def test_draft_decoding_differs_from_a_full_decode_only_as_a_resize_does() -> None:
    """JPEG draft mode scales in the DCT; after the model's own resize the pixels barely move."""
    big = Image.fromarray(data.astronaut()).resize((2048, 1536), Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    big.save(buffer, "JPEG", quality=92)
    full = decode_image(buffer.getvalue(), "x").image
    draft = decode_image(buffer.getvalue(), "x", target_size=224).image
    assert full.size == (2048, 1536) and draft.size == (512, 384)  # 1/4 scale: both sides still >= 224
    fast = FastPreprocessor.from_processor(PROCESSORS["clip-224"])
    assert fast is not None
    diff = np.abs(fast(full) - fast(draft)) / fast.scale  # back in 0..255 grey levels
    assert diff.mean() < 1.5 and np.percentile(diff, 99) < 8
    black = np.abs(fast(full) - fast(Image.new("RGB", full.size))) / fast.scale
    assert black.mean() > 20  # the measure can fail: a different image is far away
