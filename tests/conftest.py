"""Shared fixtures: tiny models built and saved here, then loaded through the real loader."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.helpers import crafted_png_bomb

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no test may reach a hub
# The suite checks model semantics against transformers' own fp32 output, so it runs on the PyTorch fp32
# reference unless a test asks for another engine (tests/integration/test_runtimes.py does, for each one).
os.environ.setdefault("CLIPAWARE_RUNTIME", "torch")
os.environ.setdefault("CLIPAWARE_PRECISION", "fp32")
# ONNX exports made by tests go to a throw-away folder, never into the user's Hugging Face cache.
os.environ.setdefault("CLIPAWARE_ONNX_CACHE", tempfile.mkdtemp(prefix="clipaware-onnx-tests-"))
# The CLI reads the three variables above at its door (typer's envvar=); nothing deeper reads them. Tests
# that load models themselves pass the same choice explicitly.
ONNX_CACHE = Path(os.environ["CLIPAWARE_ONNX_CACHE"])
ENGINE = {
    "runtime": os.environ["CLIPAWARE_RUNTIME"],
    "precision": os.environ["CLIPAWARE_PRECISION"],
    "onnx_cache": ONNX_CACHE,
}

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised tiny CLIP saved with save_pretrained (loads like a hub snapshot)."""
    from clipaware.models.fixtures import save_tiny_model

    return save_tiny_model(tmp_path_factory.mktemp("models") / "tiny-clip", "clip")


@pytest.fixture(scope="session")
def tiny_siglip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised tiny SigLIP saved with save_pretrained."""
    from clipaware.models.fixtures import save_tiny_model

    return save_tiny_model(tmp_path_factory.mktemp("models") / "tiny-siglip", "siglip")


BAD_FILES = {
    "fake.jpg": "not an image",
    "empty.png": "empty file",
    "truncated.jpg": "truncated",
    "bomb.png": "decompression bomb",
}


@pytest.fixture()
def photo_folder(tmp_path: Path) -> Path:
    """Real photos from scikit-image (one in a subfolder, one hidden), a text file, and each bad-file kind."""
    import numpy as np
    from PIL import Image
    from skimage import data

    root = tmp_path / "photos"
    (root / "sub").mkdir(parents=True)
    (root / ".hidden").mkdir()
    Image.fromarray(data.astronaut()).save(root / "astronaut.jpg", quality=90)
    Image.fromarray(data.coffee()).save(root / "coffee.jpg", quality=90)
    Image.fromarray(data.chelsea()).save(root / "sub" / "chelsea.png")
    Image.fromarray(np.asarray(data.camera())).save(root / "sub" / "camera.png")
    Image.fromarray(data.rocket()).save(root / ".hidden" / "rocket.jpg")
    (root / "notes.txt").write_text("not a photo, not reported")
    (root / "fake.jpg").write_text("this is text with an image suffix")
    (root / "empty.png").write_bytes(b"")
    whole = (root / "astronaut.jpg").read_bytes()
    (root / "truncated.jpg").write_bytes(whole[: len(whole) // 2])
    (root / "bomb.png").write_bytes(crafted_png_bomb())
    return root
