"""Behaviour pinned with our own labelled queries (tests/unit/query/cases.jsonl), written before tuning.

Each case is a test: the analyzer must give exactly the labelled set of limitations. The file holds
positives and traps for every label (sign names, idioms, kind compounds, landmarks, setting prepositions).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clipaware.cli.output import render_analyzer_scores
from clipaware.query import analyze
from clipaware.query.evaluate import evaluate_file

CASES_PATH = Path(__file__).with_name("cases.jsonl")
# Written later, as fresh probes of how well the rules generalise; their misses were fixed by general rules.
MORE_PATH = Path(__file__).with_name("cases_more.jsonl")
CASES = [json.loads(line) for line in CASES_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("case", CASES, ids=[case["query"][:60] for case in CASES])
def test_case_labels(case: dict) -> None:
    predicted = {kind.value for kind in analyze(case["query"]).kinds}
    assert predicted == set(case["limitations"])


def test_case_set_is_balanced() -> None:
    """The set must keep positives for every label and plenty of limitation-free traps."""
    labels = [label for case in CASES for label in case["limitations"]]
    for label in ("counting", "fine_grained", "spatial", "compositional", "negation"):
        assert labels.count(label) >= 12, label
    assert sum(not case["limitations"] for case in CASES) >= 50
    assert len(CASES) >= 150


def test_case_set_scores() -> None:
    report = evaluate_file(CASES_PATH)
    assert report.macro_f1 >= 0.99
    assert report.false_flag_share <= 0.02


def test_more_cases_scores() -> None:
    report = evaluate_file(MORE_PATH)
    assert report.n_queries >= 300
    assert report.macro_f1 >= 0.99, render_analyzer_scores(report)
    assert report.false_flag_share <= 0.02, render_analyzer_scores(report)
