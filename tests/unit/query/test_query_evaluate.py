"""Scoring arithmetic and the labelled-file reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clipaware.cli.output import render_analyzer_scores
from clipaware.errors import UsageError
from clipaware.query.evaluate import evaluate, read_labelled


def test_scores_count_hits_misses_and_false_alarms() -> None:
    report = evaluate(
        [
            ("three dogs", ["counting"]),  # hit
            ("a red car", ["counting"]),  # miss (fn)
            ("a beach with no people", []),  # false alarm on a clean query
            ("sunset beach", []),  # clean, correct
        ]
    )
    counting = report.score("counting")
    assert (counting.tp, counting.fp, counting.fn) == (1, 0, 1)
    assert counting.precision == 1.0 and counting.recall == 0.5
    assert counting.f1 == pytest.approx(2 / 3)
    assert report.score("negation").fp == 1
    assert report.n_clean == 2 and report.n_clean_flagged == 1 and report.false_flag_share == 0.5
    assert {miss.query for miss in report.misses} == {"a red car", "a beach with no people"}
    data = report.to_dict()
    assert data["false_flag_share"] == 0.5 and len(data["labels"]) == 5
    assert "misses (2)" in render_analyzer_scores(report)


def test_a_label_with_no_examples_has_no_scores_not_perfect_ones() -> None:
    report = evaluate([("three dogs", ["counting"]), ("sunset beach", [])])
    spatial = report.score("spatial")  # nobody labelled it, nothing predicted it
    assert spatial.precision is None and spatial.recall is None and spatial.f1 is None
    assert report.to_dict()["labels"][[s["label"] for s in report.to_dict()["labels"]].index("spatial")]["f1"] is None
    assert report.macro_f1 == report.score("counting").f1 == 1.0  # the mean over labels that have examples
    row = next(line for line in render_analyzer_scores(report).splitlines() if line.startswith("spatial"))
    assert "1.000" not in row and "–" in row
    never = evaluate([("a red car", ["counting"])]).score("counting")  # examples, never predicted
    assert never.precision is None and never.recall == 0.0 and never.f1 == 0.0


def test_read_labelled_rejects_bad_lines(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"query": "a cat", "limitations": []}) + "\n\n", encoding="utf-8")
    assert read_labelled(good) == [("a cat", ())]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "a cat", "limitations": ["colour"]}\n', encoding="utf-8")
    with pytest.raises(UsageError, match="unknown label"):
        read_labelled(bad)
    broken = tmp_path / "broken.jsonl"
    broken.write_text("not json\n", encoding="utf-8")
    with pytest.raises(UsageError, match=":1:"):
        read_labelled(broken)
    with pytest.raises(UsageError, match="cannot read"):
        read_labelled(tmp_path / "missing.jsonl")
