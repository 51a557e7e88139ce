"""`clipaware eval …` end to end: the shapes table, JSON shape, determinism, benchmarks, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clipaware.cli import app
from clipaware.eval.shapes.probes import TASKS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "benchmarks"
runner = CliRunner()


def _json(args: list[str]) -> dict:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_eval_shapes_json_is_complete_and_measures_both_columns() -> None:
    payload = _json(["eval", "shapes", "--n", "6", "--json"])
    assert set(payload["tasks"]) == set(TASKS)
    for name, row in payload["tasks"].items():
        assert row["n"] == 6
        assert 0.0 < row["chance"] < 1.0
        assert 0.0 <= row["clip_only"] <= 1.0
        lo, hi = row["clip_only_ci95"]
        assert lo <= row["clip_only"] <= hi
        # the task routes are installed, so the routed column is measured on the same probes
        assert 0.0 <= row["routed"] <= 1.0 and row["routed_note"] == "", name
        assert row["routed_ci95"][0] <= row["routed"] <= row["routed_ci95"][1]
    assert payload["tasks"]["count"]["chance"] == pytest.approx(1 / 6, abs=1e-3)


def test_eval_shapes_is_deterministic_and_seed_dependent_in_process() -> None:
    """The same seed gives the same table to the last digit, both columns, both ways of answering (fast: runs
    in CI, where the slow CLI version below does not)."""
    import numpy as np

    from clipaware.eval.scoring import evaluate_shapes
    from clipaware.eval.shapes import SHAPES_CLIP_PATH
    from clipaware.eval.shapes.probes import make_probes
    from clipaware.models.clip import ClipModel

    clip = ClipModel.load(str(SHAPES_CLIP_PATH))
    for via in ("tasks", "ask"):
        first = evaluate_shapes(clip, n=4, seed=0, via=via).to_dict()
        assert evaluate_shapes(clip, n=4, seed=0, via=via).to_dict() == first
        assert all(row["routed"] is not None for row in first["tasks"].values())
    for task in ("count", "left_right", "negation"):
        same = make_probes(task, 6, seed=0), make_probes(task, 6, seed=0)
        assert same[0] == same[1]  # question, texts, answer, truth (images compare by their pixels next)
        for a, b in zip(*same, strict=True):
            assert all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(a.images, b.images, strict=True))
        assert make_probes(task, 6, seed=1) != same[0]


@pytest.mark.slow
def test_eval_shapes_is_deterministic_and_seed_dependent() -> None:
    payload = _json(["eval", "shapes", "--n", "16", "--json"])
    assert _json(["eval", "shapes", "--n", "16", "--json"]) == payload
    other = _json(["eval", "shapes", "--n", "16", "--seed", "1", "--json"])
    assert [r["clip_only"] for r in other["tasks"].values()] != [r["clip_only"] for r in payload["tasks"].values()]


def test_eval_shapes_table_for_people() -> None:
    result = runner.invoke(app, ["eval", "shapes", "--n", "3"])
    assert result.exit_code == 0, result.output
    for word in ("count", "negation", "chance", "CLIP-only", "routed"):
        assert word in result.stdout
    payload = json.loads(runner.invoke(app, ["eval", "shapes", "--n", "3", "--json"]).stdout)  # same seed
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.split() and line.split()[0] in TASKS}
    assert set(rows) == set(payload["tasks"])
    for task, row in payload["tasks"].items():  # each cell of the table is the number the JSON holds
        cells = [str(row["n"]), f"{row['chance']:.2f}"]
        for column in ("clip_only", "routed"):
            lo, hi = row[f"{column}_ci95"]
            cells.append(f"{row[column]:.2f} [{lo:.2f}–{hi:.2f}]")
        assert [w for w in rows[task].split()[1:] if w != "│"] == " ".join(cells).split(), rows[task]


def test_routed_column_says_not_available_without_a_route_in_the_table() -> None:
    from clipaware.routes import ROUTES

    table = dict(ROUTES)
    try:
        for name in ("count", "relate", "bind", "negate"):
            del ROUTES[name]
        payload = _json(["eval", "shapes", "--n", "4", "--json"])
        assert all(r["routed"] is None and "route table has no" in r["routed_note"] for r in payload["tasks"].values())
        result = runner.invoke(app, ["eval", "shapes", "--n", "4"])
        assert "not available" in result.stdout
    finally:  # the table's order is its planning order: put it back as it was
        ROUTES.clear()
        ROUTES.update(table)


@pytest.mark.parametrize(
    ("benchmark", "subsets"),
    [
        ("whatsup", {"controlled_images": (2, 0.25), "coco_qa_two_obj": (1, 0.5)}),
        ("sugarcrepe", {"swap_att": (1, 0.5), "replace_obj": (1, 0.5)}),
        ("countbench", {"countbench": (3, 1 / 9)}),
    ],
)
def test_eval_benchmarks_on_fixture_files(benchmark: str, subsets: dict) -> None:
    from clipaware.eval.shapes import SHAPES_CLIP_PATH

    data = FIXTURES / benchmark
    payload = _json(["eval", benchmark, "--data", str(data), "--model", str(SHAPES_CLIP_PATH), "--json"])
    assert payload["benchmark"] == benchmark
    assert {k: (v["n"], round(v["chance"], 4)) for k, v in payload["tasks"].items()} == {
        k: (n, round(c, 4)) for k, (n, c) in subsets.items()
    }
    assert all(v["routed"] is None and v["routed_note"] for v in payload["tasks"].values())
    if benchmark == "sugarcrepe":
        assert "CLIP is the right tool" in payload["tasks"]["replace_obj"]["routed_note"]


def test_missing_data_folder_is_one_clear_line(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src"), "HF_HUB_OFFLINE": "1"}
    from clipaware.eval.shapes import SHAPES_CLIP_PATH

    args = ["eval", "whatsup", "--data", str(tmp_path / "absent"), "--model", str(SHAPES_CLIP_PATH)]
    proc = subprocess.run(
        [sys.executable, "-m", "clipaware.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 2
    assert "not a folder" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
