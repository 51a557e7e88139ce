"""A Hugging Face cache holding tiny twins of the real models, so documented commands run exactly as written.

The README, SKILL.md and the guide's scripts name real models implicitly (`clipaware ask photo.jpg "how
many dogs?"` means CLIP ViT-B/32 plus DETR). Those weights cannot be fetched here, and rewriting the commands
with `--model tiny-folder` would test different text from what is printed. Instead this fixture writes a
hub-style cache (``models--ORG--NAME/snapshots/<commit>/`` plus ``refs/<branch>``) in which the registry
names — the default CLIP, DETR at its ``no_timm`` branch, OWLv2, DINOv2-small — hold tiny randomly
initialised models saved with ``save_pretrained``. clipaware then resolves them through its real offline
path (``huggingface_hub.snapshot_download(local_files_only=True)``), the same way it would on a user's
machine after ``clipaware models pull``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

FAKE_COMMIT = "0" * 40


def _twins() -> list[tuple[str, str, str]]:
    """(hub name, family, branch) of every model a documented command may load, from the code's own defaults."""
    from clipaware.models.detect import DETR, OWLV2
    from clipaware.models.features import DEFAULT_FEATURE_MODEL
    from clipaware.models.registry import DEFAULT_MODEL, REGISTRY

    names = {DEFAULT_MODEL: "clip", DETR: "detr", OWLV2: "owlv2", DEFAULT_FEATURE_MODEL: "dinov2"}
    return [(name, family, (REGISTRY[name].revision or "main")) for name, family in names.items()]


@pytest.fixture(scope="session")
def tiny_hub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cache folder (built once per session, about a second per model)."""
    from clipaware.testing import save_tiny_model

    cache = tmp_path_factory.mktemp("hf-hub")
    for name, family, branch in _twins():
        repo = cache / ("models--" + name.replace("/", "--"))
        save_tiny_model(repo / "snapshots" / FAKE_COMMIT, family, image_size=32 if family == "clip" else 64)
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "refs" / branch).write_text(FAKE_COMMIT)
    return cache


@pytest.fixture()
def offline_hub(tiny_hub: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point this process (and subprocesses, through the environment) at the tiny cache, offline, no overrides."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_CACHE", str(tiny_hub))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("CLIPAWARE_MODEL", raising=False)
    monkeypatch.delenv("CLIPAWARE_DB", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tiny_hub))  # read at call time; the env var was read at import
    return tiny_hub
