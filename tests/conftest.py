"""Shared fixtures: tiny models built and saved here, then loaded through the real loader."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.helpers import crafted_png_bomb

# Hermetic: the session gets its own HOME and Hugging Face cache in a temporary folder, set before anything
# imports huggingface_hub (which reads them once, at import). What the user has cached (DETR, CLIP, ONNX
# exports) or set (CLIPAWARE_MODEL, CLIPAWARE_DB, HF_HOME) must not change what a test sees.
SESSION_HOME = Path(tempfile.mkdtemp(prefix="clipaware-tests-home-"))
os.environ["HOME"] = str(SESSION_HOME)
os.environ["XDG_CACHE_HOME"] = str(SESSION_HOME / ".cache")
os.environ["HF_HOME"] = str(SESSION_HOME / ".cache" / "huggingface")
os.environ["HF_HUB_CACHE"] = str(SESSION_HOME / ".cache" / "huggingface" / "hub")
USER_SETTINGS = ("HUGGINGFACE_HUB_CACHE", "TRANSFORMERS_CACHE", "HF_ASSETS_CACHE", "CLIPAWARE_MODEL", "CLIPAWARE_DB")
USER_SETTINGS += ("CLIPAWARE_DEVICE", "CLIPAWARE_ANN_THRESHOLD", "CLIPAWARE_ORT_SPIN")
for _var in USER_SETTINGS:
    os.environ.pop(_var, None)
atexit.register(shutil.rmtree, SESSION_HOME, ignore_errors=True)
os.environ["HF_HUB_OFFLINE"] = "1"  # no test may reach a hub
# The suite checks model semantics against transformers' own fp32 output, so it runs on the PyTorch fp32
# reference unless a test asks for another engine (tests/integration/test_runtimes.py does, for each one).
os.environ.setdefault("CLIPAWARE_RUNTIME", "torch")
os.environ.setdefault("CLIPAWARE_PRECISION", "fp32")
# ONNX exports made by tests go to a throw-away folder, never into the user's Hugging Face cache.
os.environ["CLIPAWARE_ONNX_CACHE"] = str(SESSION_HOME / "onnx")
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


@pytest.fixture()
def empty_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Hugging Face cache for this test, in-process and for subprocesses, offline.

    huggingface_hub reads ``HF_HUB_CACHE`` once at import, so setting the variable alone would leave this
    process looking at the old cache; the constant is patched too.
    """
    from huggingface_hub import constants

    cache = tmp_path / "empty-hf-cache"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    return cache
