"""Registry facts, model-name resolution and the missing-model message (no network, no weights)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipaware.errors import ModelNotAvailableError
from clipaware.models import hub
from clipaware.models.registry import DEFAULT_MODEL, REGISTRY, SIGMOID_FAMILIES, resolve_model_name


def test_registry_has_the_promised_models_with_costs() -> None:
    for name in (
        "openai/clip-vit-base-patch32",
        "openai/clip-vit-large-patch14",
        "laion/CLIP-ViT-g-14-laion2B-s12B-b42K",
        "google/siglip2-base-patch16-224",
    ):
        spec = REGISTRY[name]
        assert spec.role == "embed" and spec.embedding_dim and spec.gflops > 0 and spec.image_size == 224
    assert REGISTRY["openai/clip-vit-large-patch14"].gflops > REGISTRY[DEFAULT_MODEL].gflops
    assert REGISTRY["google/siglip2-base-patch16-224"].family in SIGMOID_FAMILIES
    assert REGISTRY[DEFAULT_MODEL].family not in SIGMOID_FAMILIES


def test_model_name_resolution_order(monkeypatch: pytest.MonkeyPatch) -> None:
    import typer

    from clipaware.cli import app

    search = typer.main.get_command(app).commands["search"]  # type: ignore[attr-defined]
    monkeypatch.delenv("CLIPAWARE_MODEL", raising=False)
    assert resolve_model_name(None) == DEFAULT_MODEL
    assert search.make_context("search", ["a cat"]).params["model"] is None  # → the default
    monkeypatch.setenv("CLIPAWARE_MODEL", "openai/clip-vit-large-patch14")
    assert search.make_context("search", ["a cat"]).params["model"] == "openai/clip-vit-large-patch14"
    assert resolve_model_name(None) == DEFAULT_MODEL  # the environment is read at the CLI's door only
    flag = search.make_context("search", ["a cat", "--model", "google/siglip2-base-patch16-224"]).params["model"]
    assert resolve_model_name(flag) == "google/siglip2-base-patch16-224"


def test_missing_model_offline_names_it_and_the_way_to_get_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(hub, "cache_dir", lambda: tmp_path)
    with pytest.raises(ModelNotAvailableError) as info:
        hub.model_folder("openai/clip-vit-large-patch14")
    message = str(info.value)
    assert "openai/clip-vit-large-patch14" in message
    assert "clipaware models pull openai/clip-vit-large-patch14" in message
    assert info.value.exit_code == 2


def test_unreachable_hub_fails_fast_with_the_same_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "hub_reachable", lambda timeout=3.0: False)
    with pytest.raises(ModelNotAvailableError, match=r"cannot be reached.*models pull nobody/no-such-model"):
        hub.download("nobody/no-such-model")


def test_a_folder_without_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelNotAvailableError, match="not a model folder"):
        hub.model_folder(str(tmp_path))


def test_local_names_are_recorded_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "m").mkdir()
    monkeypatch.chdir(tmp_path)
    assert hub.canonical_model_name("./m") == str(tmp_path / "m")
    assert hub.canonical_model_name("openai/clip-vit-base-patch32") == "openai/clip-vit-base-patch32"


def test_the_shipped_shapes_clip_loads_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from clipaware.models.registry import SHAPES_MODEL, bundled_folder
    from clipaware.world import SHAPES_CLIP_PATH

    monkeypatch.chdir(tmp_path)
    (tmp_path / "shapes").mkdir()  # a folder called shapes here does not hide the shipped model's name
    assert resolve_model_name("shapes") == SHAPES_MODEL == "shapes-clip"
    assert hub.canonical_model_name("shapes") == "shapes-clip" and not hub.is_local_reference("shapes")
    assert bundled_folder("shapes") == bundled_folder("shapes-clip") == SHAPES_CLIP_PATH
    assert hub.model_folder("shapes") == SHAPES_CLIP_PATH and (SHAPES_CLIP_PATH / "config.json").is_file()
    assert hub.canonical_model_name("./shapes") == str(tmp_path / "shapes")  # ./ still means the folder
    assert REGISTRY["shapes-clip"].bundled and bundled_folder(DEFAULT_MODEL) is None


def test_the_model_guide_counts_a_model_cached_at_its_pinned_revision(tmp_path: Path, monkeypatch) -> None:
    """DETR loads its no_timm branch; a cache holding only that branch has it (refs/main is absent)."""
    from huggingface_hub import constants

    from clipaware.models.detect import DETR
    from clipaware.tasks.catalog import list_models

    commit = "1" * 40
    repo = tmp_path / ("models--" + DETR.replace("/", "--"))
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "snapshots" / commit / "config.json").write_text("{}")
    (repo / "refs").mkdir()
    (repo / "refs" / "no_timm").write_text(commit)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    cached = {e.spec.name: e.cached for e in list_models()}
    assert cached[DETR] is True and cached[DEFAULT_MODEL] is False and cached["shapes-clip"] is True


@pytest.mark.parametrize(
    ("load", "option"),
    [
        ("from clipaware.models.detect import DetrDetector as L; L()", "--detector"),
        ("from clipaware.models.detect import load_detector as L; L('owlv2')", "--detector"),
        ("from clipaware.models.features import FeatureModel as L; L.load()", "--feature-model"),
        ("from clipaware.models.clip import ClipModel as L; L.load()", "--model"),
    ],
)
def test_a_missing_model_names_its_own_option_before_torch_loads(load: str, option: str, tmp_path: Path) -> None:
    """A detector folder passed as --model would replace CLIP: the message names the option that takes it.
    The check comes first, so the error appears without importing torch or transformers (seconds saved)."""
    import os
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from clipaware.errors import ModelNotAvailableError\n"
        f"try:\n    {load}\nexcept ModelNotAvailableError as exc:\n    print(exc)\n"
        "print('torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    env.pop("CLIPAWARE_MODEL", None)
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    message, imported = proc.stdout.strip().splitlines()
    assert message.endswith(f"save_pretrained as {option}") and "models pull" in message
    assert imported == "False False"
