"""`clipaware check` end to end: pretty output, --check-all, --json, --file, --evaluate, bad usage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clipaware.cli import app
from clipaware.errors import UsageError

runner = CliRunner()


def test_clip_ok_query() -> None:
    result = runner.invoke(app, ["check", "a foggy harbour at dawn"])
    assert result.exit_code == 0
    assert "✅" in result.output and "❌" not in result.output


def test_limited_query_shows_evidence_and_suggestion() -> None:
    result = runner.invoke(app, ["check", "four cups to the left of a kettle"])
    assert result.exit_code == 0
    assert "❌" in result.output
    assert "counting" in result.output and "spatial" in result.output
    assert '"four cups"' in result.output
    assert "facebook/detr-resnet-50" in result.output


def test_check_all_lists_every_check() -> None:
    result = runner.invoke(app, ["check", "--check-all", "a beach with no umbrellas"])
    assert result.exit_code == 0
    assert result.output.count("pass") == 4
    assert result.output.count("fail") == 1


def test_json_has_exactly_the_promised_keys() -> None:
    result = runner.invoke(app, ["check", "--json", "a cat chasing a dog"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert list(data) == ["query", "clip_ok", "limitations", "parse"]
    assert data["clip_ok"] is False
    assert [lim["kind"] for lim in data["limitations"]] == ["compositional"]
    assert list(data["limitations"][0]) == ["kind", "evidence", "explanation", "suggestion"]
    assert data["parse"]["actions"][0]["verb"] == "chase"


def test_file_mode_reads_lines_and_jsonl(tmp_path: Path) -> None:
    source = tmp_path / "queries.txt"
    source.write_text(
        "three ducks\n\n" + json.dumps({"query": "a dog without a collar"}) + "\nsunset beach\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["check", "--file", str(source)])
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["query"] for line in lines] == ["three ducks", "a dog without a collar", "sunset beach"]
    assert [line["clip_ok"] for line in lines] == [False, False, True]


def test_file_dash_reads_queries_from_stdin() -> None:
    piped = "three ducks\n" + json.dumps({"query": "sunset beach"}) + "\n"
    result = runner.invoke(app, ["check", "--file", "-"], input=piped)
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(line["query"], line["clip_ok"]) for line in lines] == [("three ducks", False), ("sunset beach", True)]
    bad = runner.invoke(app, ["check", "--file", "-"], input="{not json\n")
    assert bad.exit_code != 0 and "<stdin>:1" in str(bad.exception)


def test_evaluate_prints_scores_and_misses(tmp_path: Path) -> None:
    labelled = tmp_path / "labelled.jsonl"
    rows = [
        {"query": "two owls", "limitations": ["counting"]},
        {"query": "a red car", "limitations": ["negation"]},
        {"query": "a mossy log", "limitations": []},
    ]
    labelled.write_text("\n".join(json.dumps(row) for row in rows), encoding="utf-8")
    text = runner.invoke(app, ["check", "--evaluate", str(labelled)])
    assert text.exit_code == 0
    assert "macro-F1" in text.output and "wrongly flagged" in text.output and "'a red car'" in text.output
    as_json = runner.invoke(app, ["check", "--evaluate", str(labelled), "--json"])
    data = json.loads(as_json.output)
    assert data["n_queries"] == 3 and len(data["misses"]) == 1
    assert {row["label"] for row in data["labels"]} >= {"counting", "negation"}


@pytest.mark.parametrize("args", [["check"], ["check", "a cat", "--file", "x.txt"]])
def test_bad_usage_is_a_usage_error(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert isinstance(result.exception, UsageError)


def test_empty_query_exits_2_with_one_line() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "clipaware.cli", "check", "   "], capture_output=True, text=True, env=env
    )
    assert done.returncode == 2
    assert "empty" in done.stderr and len(done.stderr.strip().splitlines()) == 1
