"""Shared fixtures: tiny models built and saved here, then loaded through the real loader."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no test may reach a hub

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
