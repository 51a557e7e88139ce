"""The guide's three scripts: `--help` and a real call each, as files (`python scripts/NAME.py`) and as functions.

The files are run as subprocesses where the file itself is what is tested (help, the no-install path); the
heavier real calls run the same functions in-process against the tiny hub cache (tests/e2e/conftest.py),
which is what the console scripts in pyproject.toml call.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from skimage import data

from clipaware import guide_scripts

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = {
    "validate_setup": "clipaware doctor",
    "validate_clip_usage": "clipaware check",
    "diagnose_clip_issue": "clipaware diagnose",
}


def run_script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python scripts/NAME.py ARGS`` from the clone, with nothing on PYTHONPATH (the file must find src/)."""
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=clean,
        timeout=120,
    )


def call(function, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Call a guide-script function in-process like its console script; return (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        function(list(args))
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out, captured.err


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_help_names_the_guide_flags_and_the_cli_command(name: str) -> None:
    result = run_script(name, "--help")
    text = " ".join(result.stdout.split())  # argparse wraps at the terminal width
    assert result.returncode == 0, result.stderr
    assert f"usage: {name}.py" in text and f"Same as `{SCRIPTS[name]}" in text
    if name != "validate_setup":
        assert "--query QUERY" in text


def test_validate_clip_usage_file_says_yes_or_no_with_the_suggestion() -> None:
    ok = run_script("validate_clip_usage", "--query", "a beach at sunset", "--check-all")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("✅ CLIP is appropriate") and ok.stdout.count("pass") == 5
    wrong = run_script("validate_clip_usage", "--query", "three dogs to the left of a sofa")
    assert wrong.returncode == 0 and wrong.stdout.startswith("❌")
    assert "counting" in wrong.stdout and "facebook/detr-resnet-50" in wrong.stdout  # the suggestion


def test_validate_clip_usage_json_is_the_check_json(capsys) -> None:
    code, out, _ = call(guide_scripts.validate_clip_usage, capsys, "--query", "-a dog without a collar", "--json")
    result = json.loads(out)
    assert code == 0 and list(result) == ["query", "language", "clip_ok", "limitations", "parse"]
    assert result["query"] == "-a dog without a collar"  # a leading dash stays part of the query
    assert [lim["kind"] for lim in result["limitations"]] == ["negation"]


def test_validate_clip_usage_needs_a_query(capsys) -> None:
    code, _, err = call(guide_scripts.validate_clip_usage, capsys, "--check-all")
    assert code == 2 and "--query" in err


def test_validate_setup_reports_ready_with_the_default_model_cached(offline_hub, capsys) -> None:
    code, out, _ = call(guide_scripts.validate_setup, capsys, "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"] is True
    default = next(c for c in report["checks"] if c["name"] == "default model")
    assert default["ok"] and "openai/clip-vit-base-patch32" in default["detail"]


def test_validate_setup_fails_without_the_model(offline_hub, tmp_path, monkeypatch, capsys) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))  # an empty cache
    code, out, _ = call(guide_scripts.validate_setup, capsys)
    assert code == 1 and "not ready" in out and "models pull" in out


def test_diagnose_clip_issue_runs_on_the_cached_models(offline_hub, tmp_path, capsys) -> None:
    photo = tmp_path / "coffee.jpg"
    Image.fromarray(data.coffee()).save(photo)
    report = tmp_path / "why.png"
    code, out, err = call(
        guide_scripts.diagnose_clip_issue, capsys, "--image", str(photo), "--query", "a cup left of a spoon",
        "--out", str(report), "--json",
    )  # fmt: skip
    assert code == 0, err
    diagnosis = json.loads(out)
    assert [p["kind"] for p in diagnosis["probes"]] == ["swap_sides"]
    assert diagnosis["probes"][0]["text"] == "a cup right of a spoon"
    assert diagnosis["routed"]["routes"] == ["relate"] and diagnosis["picture"] == str(report)
    assert report.is_file()


def test_diagnose_clip_issue_pretty_output_and_missing_image(offline_hub, tmp_path, capsys) -> None:
    photo = tmp_path / "cat.png"
    Image.fromarray(data.chelsea()).save(photo)
    code, out, _ = call(guide_scripts.diagnose_clip_issue, capsys, "--image", str(photo), "--query", "two cats")
    assert code == 0 and "probe change_number: 'three cats'" in out and "analyzer: counting" in out
    code, _, err = call(guide_scripts.diagnose_clip_issue, capsys, "--image", str(tmp_path / "no.jpg"), "--query", "x")
    assert code != 0 and "not found" in err and "Traceback" not in err


def test_console_scripts_and_files_are_the_same_functions() -> None:
    """pyproject's console scripts name the functions the files call; the files hold no logic of their own."""
    tomllib = pytest.importorskip("tomllib")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    for name in SCRIPTS:
        target = scripts[f"clipaware-{name.replace('_', '-')}"]
        module, function = target.split(":")
        assert module == "clipaware.guide_scripts" and callable(getattr(guide_scripts, function)) and function == name
        tree = ast.parse((ROOT / "scripts" / f"{name}.py").read_text())
        assert not [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.ClassDef)]
        calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert calls == {name, "str", "Path"}, calls
