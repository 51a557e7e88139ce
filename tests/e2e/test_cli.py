"""The command line as a user meets it: the main job, --json shapes, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import BAD_FILES
from tests.helpers import run


@pytest.fixture()
def env(tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLIPAWARE_MODEL", str(tiny_clip_dir))
    monkeypatch.delenv("CLIPAWARE_DB", raising=False)
    return tiny_clip_dir


def test_index_then_search_by_text_and_image(photo_folder: Path, env: Path, capsys, monkeypatch) -> None:
    code, out, _ = run(capsys, monkeypatch, "index", photo_folder, "--json")
    report = json.loads(out)
    assert code == 0
    assert {"added", "updated", "removed", "skipped"} <= set(report)
    assert report["added"] == 4 and len(report["skipped"]) == len(BAD_FILES)
    assert all(set(s) == {"path", "reason"} for s in report["skipped"])

    monkeypatch.chdir(photo_folder / "sub")  # the db is found in a parent folder
    code, out, _ = run(capsys, monkeypatch, "search", "a photo of a cat.", "-k", "3", "--json")
    hits = json.loads(out)
    assert code == 0 and len(hits) == 3 and all(set(h) == {"path", "score"} for h in hits)
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)

    code, out, _ = run(capsys, monkeypatch, "search", "--image", photo_folder / "coffee.jpg", "--json")
    assert json.loads(out)[0]["path"] == str(photo_folder / "coffee.jpg")

    code, out, _ = run(capsys, monkeypatch, "similar", photo_folder / "coffee.jpg", "-k", "2", "--json")
    assert code == 0 and str(photo_folder / "coffee.jpg") not in [h["path"] for h in json.loads(out)]

    code, out, _ = run(capsys, monkeypatch, "duplicates", "--threshold", "0.5", "--json")
    groups = json.loads(out)
    assert code == 0 and groups and all(set(g) == {"paths", "min_score"} for g in groups)

    code, out, _ = run(capsys, monkeypatch, "search", "a cat")
    assert code == 0 and str(photo_folder / "coffee.jpg") in out  # full paths, never truncated


def test_pretty_index_summary_lists_each_skip(photo_folder: Path, env: Path, capsys, monkeypatch) -> None:
    code, out, _ = run(capsys, monkeypatch, "index", photo_folder)
    assert code == 0 and "4 added" in out and f"{len(BAD_FILES)} skipped" in out
    for name in BAD_FILES:
        assert name in out


def test_classify_json_shape_and_partial_failure_exit(photo_folder: Path, env: Path, capsys, monkeypatch) -> None:
    code, out, _ = run(
        capsys, monkeypatch, "classify", photo_folder / "coffee.jpg", "--labels", "cup,cat,rocket", "--json"
    )
    rows = json.loads(out)
    assert code == 0 and rows[0]["image"].endswith("coffee.jpg")
    assert set(rows[0]["scores"]) == {"cup", "cat", "rocket"}
    assert sum(rows[0]["scores"].values()) == pytest.approx(1.0, abs=1e-4)
    code, out, err = run(
        capsys, monkeypatch, "classify", photo_folder / "coffee.jpg", photo_folder / "fake.jpg", "--labels", "a,b"
    )
    assert code == 1 and "fake.jpg" in err and "coffee.jpg" in out


def test_models_lists_the_registry_as_json(env: Path, capsys, monkeypatch) -> None:
    code, out, _ = run(capsys, monkeypatch, "models", "--json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0 and "openai/clip-vit-base-patch32" in rows and "google/siglip2-base-patch16-224" in rows
    for key in ("family", "embedding_dim", "gflops", "good_at", "bad_at", "cached"):
        assert key in rows["openai/clip-vit-large-patch14"]


def test_doctor_is_ok_when_the_default_model_runs(env: Path, capsys, monkeypatch) -> None:
    code, out, _ = run(capsys, monkeypatch, "doctor", "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] is True
    names = {c["name"] for c in report["checks"]}
    assert {"python", "torch", "transformers", "torch threads", "cpu features", "default model"} <= names


def test_doctor_fails_without_the_default_model(capsys, monkeypatch, empty_hub_cache: Path) -> None:
    monkeypatch.setenv("CLIPAWARE_MODEL", "openai/clip-vit-large-patch14")
    code, out, _ = run(capsys, monkeypatch, "doctor", "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False
    failed = [c for c in report["checks"] if not c["ok"] and c["required"]]
    assert failed[0]["name"] == "default model" and "models pull" in failed[0]["detail"]


def test_search_without_an_index_is_a_clear_error(env: Path, capsys, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, monkeypatch, "search", "a cat")
    assert code == 2 and out == "" and "no index found" in err and "clipaware index" in err


def _subprocess(args: list[str], env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **env_extra, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "clipaware.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_missing_model_is_one_line_and_exit_2_without_traceback(photo_folder: Path, tmp_path: Path) -> None:
    proc = _subprocess(
        ["index", str(photo_folder), "--model", "openai/clip-vit-large-patch14"], {"HF_HUB_CACHE": str(tmp_path)}
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "openai/clip-vit-large-patch14" in proc.stderr and "clipaware models pull" in proc.stderr
    assert len(lines) <= 3  # one message (rich may wrap it)


def test_pull_offline_is_a_clear_error(tmp_path: Path) -> None:
    proc = _subprocess(["models", "pull", "openai/clip-vit-base-patch32"], {"HF_HUB_CACHE": str(tmp_path)})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "HF_HUB_OFFLINE" in proc.stderr


def test_unwritable_index_location_is_a_one_line_error(photo_folder: Path, env: Path, capsys, monkeypatch) -> None:
    blocker = photo_folder / "not-a-folder"
    blocker.write_text("a file where the db folder should be")
    code, _, err = run(capsys, monkeypatch, "index", photo_folder, "--db", blocker / "x.db")
    assert code in (1, 2) and err.startswith("Error: ") and "Traceback" not in err


def test_an_empty_folder_writes_no_index_and_says_so(tmp_path: Path, capsys, monkeypatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, _ = run(capsys, monkeypatch, "index", empty, "--model", "shapes")
    assert code == 0 and "no images found" in out and not (empty / ".clipaware.db").exists()
    code, out, _ = run(capsys, monkeypatch, "index", empty, "--model", "shapes", "--json")
    assert code == 0 and json.loads(out)["written"] is False


def test_indexing_a_sub_folder_updates_the_index_above_it(tmp_path: Path, capsys, monkeypatch) -> None:
    from clipaware.world.scenes import write_scenes

    root = tmp_path / "pics"
    write_scenes(root / "sub", n=2)
    write_scenes(root, n=1)
    code, out, _ = run(capsys, monkeypatch, "index", root, "--model", "shapes", "--json")
    assert code == 0 and json.loads(out)["added"] == 3
    (root / "sub" / "scene-01.png").unlink()
    code, out, _ = run(capsys, monkeypatch, "index", root / "sub", "--json")
    report = json.loads(out)
    assert report["db"] == str(root / ".clipaware.db") and report["removed"] == 1
    assert not (root / "sub" / ".clipaware.db").exists()  # no second, nested index


def test_index_honours_clipaware_db_like_search(tmp_path: Path, capsys, monkeypatch) -> None:
    from clipaware.world.scenes import write_scenes

    write_scenes(tmp_path / "pics", n=1)
    monkeypatch.setenv("CLIPAWARE_DB", str(tmp_path / "elsewhere.db"))
    code, out, _ = run(capsys, monkeypatch, "index", tmp_path / "pics", "--model", "shapes", "--json")
    assert code == 0 and json.loads(out)["db"] == str(tmp_path / "elsewhere.db")
    code, out, _ = run(capsys, monkeypatch, "search", "a circle", "--json")
    assert code == 0 and len(json.loads(out)) == 1


@pytest.mark.parametrize("columns", ["80", "120"])
def test_the_model_guide_never_cuts_a_model_name(columns: str, capsys, monkeypatch) -> None:
    from clipaware.models.registry import REGISTRY

    monkeypatch.setenv("COLUMNS", columns)
    code, out, _ = run(capsys, monkeypatch, "models")
    lines = out.splitlines()
    assert code == 0 and all(any(line.startswith(name + "  (") for line in lines) for name in REGISTRY)
    assert "shapes-clip  (cached)" in out  # shipped in the package: always there


def test_search_and_similar_print_only_paths_for_pipes(tmp_path: Path, capsys, monkeypatch) -> None:
    from clipaware.world.scenes import write_scenes

    scenes = write_scenes(tmp_path / "pics", n=3)
    run(capsys, monkeypatch, "index", tmp_path / "pics", "--model", "shapes")
    monkeypatch.chdir(tmp_path / "pics")
    code, out, _ = run(capsys, monkeypatch, "search", "a red circle", "--paths")
    _, as_json, _ = run(capsys, monkeypatch, "search", "a red circle", "--json")
    assert code == 0 and out.splitlines() == [hit["path"] for hit in json.loads(as_json)]
    code, out, _ = run(capsys, monkeypatch, "similar", scenes.files[0], "-l", "-k", "1")
    assert code == 0 and out.splitlines() in ([str(scenes.files[1])], [str(scenes.files[2])])


def test_usage_errors_and_our_errors_share_one_prefix(tmp_path: Path, capsys, monkeypatch) -> None:
    _, _, usage = run(capsys, monkeypatch, "search", "--top-k", "0")
    _, _, ours = run(capsys, monkeypatch, "search", "a cat", "--db", tmp_path / "missing.db")
    assert "Error: " in usage and ours.startswith("Error: ")
