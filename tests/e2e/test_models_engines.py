"""`clipaware models` lists each model's exported ONNX engines; `clipaware models prune` removes stale ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.helpers import run

from clipaware.models import onnx
from clipaware.models.registry import DEFAULT_MODEL


def _engine(root: Path, model: str, key: str, towers: dict[str, int]) -> Path:
    folder = root / onnx.cache_name(model) / key
    folder.mkdir(parents=True)
    for tower, size in towers.items():
        (folder / f"{tower}.onnx").write_bytes(b"\0" * size)
    (folder / "meta.json").write_text("{}")
    return folder


def test_models_shows_engines_and_prune_removes_only_stale_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = onnx.versions_key()
    current = _engine(tmp_path, DEFAULT_MODEL, "sha1-" + key, {"image-fp32": 3_000_000, "text-fp32": 10})
    stale = _engine(tmp_path, DEFAULT_MODEL, "sha1-r1-torch0.1-onnx0-ort0", {"image-int8": 5})
    local = _engine(tmp_path, "/somewhere/my-model", "sha2-" + onnx.versions_key(), {"text-fp32": 7})

    code, out, _ = run(capsys, monkeypatch, "models", "--onnx-cache", str(tmp_path), "--json")
    entry = next(e for e in json.loads(out) if e["name"] == DEFAULT_MODEL)
    assert code == 0
    assert {(Path(e["path"]), tuple(e["towers"]), e["current"]) for e in entry["engines"]} == {
        (current, ("image-fp32", "text-fp32"), True),
        (stale, ("image-int8",), False),
    }
    code, out, _ = run(capsys, monkeypatch, "models", "--onnx-cache", str(tmp_path))
    assert "engine:  image-fp32 + text-fp32, 3 MB, ready" in out and "stale" in out
    assert "local--my-model: text-fp32" in out  # an engine of a model outside the guide is listed too

    code, out, _ = run(capsys, monkeypatch, "models", "prune", "--onnx-cache", str(tmp_path), "--json")
    assert code == 0 and [Path(e["path"]) for e in json.loads(out)["removed"]] == [stale]
    assert current.is_dir() and local.is_dir() and not stale.exists()
    code, out, _ = run(capsys, monkeypatch, "models", "prune", "--onnx-cache", str(tmp_path))
    assert code == 0 and "nothing to prune" in out
