"""CI runs the scale benchmark at a tiny N: it must build, search, and report the promised shape."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "index_scale.py"


def test_index_scale_benchmark_smoke(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLIPAWARE_ANN_THRESHOLD", raising=False)
    spec = importlib.util.spec_from_file_location("index_scale", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--n", "3000", "--dim", "64", "--queries", "20", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 3000
    assert {"p50_ms", "p99_ms"} <= set(result["exact"])
    assert {"build_s", "p50_ms", "p99_ms", "recall_at_10"} <= set(result["ann"])
    assert result["ann"]["kind"] == "hnsw" and result["ann"]["recall_at_10"] >= 0.9
    assert result["exact"]["p50_ms"] <= result["exact"]["p99_ms"]
    assert 0 < result["rss_mb"] < 2000
    assert [f["share"] for f in result["filtered"]] == [0.1, 0.01]
    assert all(f["recall_at_10"] >= 0.9 for f in result["filtered"])
