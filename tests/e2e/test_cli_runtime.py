"""--runtime / --precision on the commands that embed; doctor names the engine; the benchmark runs tiny."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.e2e.test_cli import run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def env(tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("CLIPAWARE_MODEL", str(tiny_clip_dir))
    monkeypatch.setenv("CLIPAWARE_ONNX_CACHE", str(tmp_path / "onnx"))
    monkeypatch.delenv("CLIPAWARE_DB", raising=False)
    return tiny_clip_dir


def test_index_and_search_with_the_onnx_runtime(photo_folder: Path, env: Path, tmp_path: Path, capsys, monkeypatch):
    code, out, _ = run(capsys, monkeypatch, "index", photo_folder, "--runtime", "onnx", "--precision", "fp32", "--json")
    assert code == 0 and json.loads(out)["added"] == 4
    assert list((tmp_path / "onnx").rglob("image-fp32.onnx"))  # the flag reached the model load
    monkeypatch.chdir(photo_folder)
    code, out, _ = run(capsys, monkeypatch, "search", "--image", photo_folder / "coffee.jpg", "--json")
    hits = json.loads(out)
    assert code == 0 and hits[0]["path"] == str(photo_folder / "coffee.jpg")  # torch query, onnx index: agree
    assert hits[0]["score"] > 0.999
    code, out, _ = run(capsys, monkeypatch, "search", "a cat", "--runtime", "onnx", "--precision", "fp32", "--json")
    assert code == 0 and len(json.loads(out)) == 4


def test_classify_with_torch_bf16(photo_folder: Path, env: Path, capsys, monkeypatch) -> None:
    args = ("classify", photo_folder / "coffee.jpg", "--labels", "cup,cat", "--runtime", "torch", "--precision")
    code, out, _ = run(capsys, monkeypatch, *args, "bf16", "--json")
    assert code == 0 and sum(json.loads(out)[0]["scores"].values()) == pytest.approx(1.0, abs=1e-4)


def test_bad_runtime_values_are_one_line_errors(env: Path, capsys, monkeypatch) -> None:
    code, out, err = run(capsys, monkeypatch, "search", "a cat", "--runtime", "onnx", "--precision", "bf16")
    assert code == 2 and out == "" and "no bf16 kernels" in err
    code, _, err = run(capsys, monkeypatch, "classify", "x.jpg", "--labels", "a,b", "--runtime", "jax")
    assert code == 2 and "unknown runtime 'jax'" in err


def test_doctor_names_the_engine(env: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("CLIPAWARE_RUNTIME", "onnx")
    monkeypatch.setenv("CLIPAWARE_PRECISION", "fp32")
    code, out, _ = run(capsys, monkeypatch, "doctor", "--json")
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert code == 0 and checks["runtime"]["detail"].startswith("onnx fp32, batch 16")
    assert "this CPU's default would be" in checks["runtime"]["detail"] or "int8" not in checks["runtime"]["detail"]
    assert "engine onnx fp32, cosine to fp32" in checks["default model"]["detail"]


def test_the_benchmark_runs_tiny(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CLIPAWARE_ONNX_CACHE": str(tmp_path / "onnx")}
    args = ["--model", "tiny", "--images", "3", "--megapixels", "0.2", "--model-images", "8", "--repeats", "1"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "embed_speed.py"), *args, "--runtime", "onnx", "--json",
         "--workdir", str(tmp_path / "bench")],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    for part in ("model_only", "end_to_end"):
        row = result[part]
        assert row["baseline_ips"] > 0 and row["fast_ips"] > 0
        assert row["ratio"] == pytest.approx(row["fast_ips"] / row["baseline_ips"], rel=0.01)
    assert result["e2e_share_of_model"] == pytest.approx(
        result["end_to_end"]["fast_ips"] / result["model_only"]["fast_ips"], rel=0.01, abs=1e-3
    )
    assert 0.99 <= result["cosine_min"] <= 1.0 and result["setup"]["images"] == 3
    decode = result["decode"]
    assert decode["decode_only_ips"] > 0 and decode["decode_cpu_ms_per_image"] > 0
    cores = result["setup"]["cpus"]
    expected = 1000 * cores / (decode["decode_cpu_ms_per_image"] + decode["model_cpu_ms_per_image"])
    assert decode["e2e_ceiling_ips"] == pytest.approx(expected, rel=0.01)
    assert result["setup"]["fast_engine"].startswith("onnx")


def test_the_one_time_export_says_so_and_a_refusal_is_one_note(photo_folder: Path, env: Path, capsys, monkeypatch):
    """The export is a long silent step without a status line; a refused fast path is a one-line note, not a
    Python warning with its source line."""
    args = ("classify", photo_folder / "coffee.jpg", "--labels", "cup,cat", "--runtime", "onnx", "--precision")
    code, out, err = run(capsys, monkeypatch, *args, "int8", "--json")
    assert code == 0 and json.loads(out)  # stdout stays one JSON document
    assert "exporting" in err and "to ONNX" in err and "once" in err
    assert "warnings.warn" not in err and "UserWarning" not in err and "Warning:" not in err
    assert all(line.startswith("note: ") for line in err.splitlines() if "refused" in line)
    code, _, err = run(capsys, monkeypatch, *args, "int8", "--json")
    assert code == 0 and "exporting" not in err  # once: the second load reads the cache
