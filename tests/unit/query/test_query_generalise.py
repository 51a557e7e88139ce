"""Regression floors for the analyzer's own labelled sets per category (tests/unit/query/sets/).

Each set holds positives and traps for one kind of phrasing the rules once missed (issue 16): relations by
any preposition or to a pronoun, roles by any verb, moods and predicated attributes, species and makes by
bare name, lower-case first names, wear/material words and brands that start with a negator. They were
written by hand and scored before the rules changed; ``probe.jsonl`` and ``probe2.jsonl`` were written
after, each as a fresh check scored at first sight before any fix it prompted.
The floors are what the rules reach now, so a change that loses ground fails here in every clone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clipaware.cli.output import render_analyzer_scores
from clipaware.query import analyze
from clipaware.query.evaluate import evaluate_file

SETS = Path(__file__).parent / "sets"
# (file, label the set is about, F1 floor for that label, ceiling on clean queries flagged)
FLOORS = [
    ("spatial.jsonl", "spatial", 1.0, 0.0),
    ("compositional.jsonl", "compositional", 1.0, 0.0),
    ("fine_grained.jsonl", "fine_grained", 1.0, 0.0),
    ("false_flags.jsonl", None, 1.0, 0.0),
    ("probe.jsonl", None, 1.0, 0.0),
    # Written last and kept as scored after one round of general fixes: two labels still missed on purpose
    # ("bike chained to a lamppost", and a duck leading ducklings, which the rules read as a role order).
    ("probe2.jsonl", None, 0.95, 0.06),
]


@pytest.mark.parametrize(("name", "label", "floor", "ceiling"), FLOORS, ids=[row[0] for row in FLOORS])
def test_set_floor(name: str, label: str | None, floor: float, ceiling: float) -> None:
    report = evaluate_file(SETS / name)
    if label is not None:
        assert report.score(label).f1 >= floor, render_analyzer_scores(report)
    if any(score.f1 is not None for score in report.scores):  # an all-clean set has no F1, only its flag rate
        assert report.macro_f1 >= floor, render_analyzer_scores(report)
    assert report.false_flag_share <= ceiling, render_analyzer_scores(report)


def test_sets_have_positives_and_traps() -> None:
    for name, label, _, _ in FLOORS:
        rows = [json.loads(line) for line in (SETS / name).read_text(encoding="utf-8").splitlines() if line]
        clean = sum(not row["limitations"] for row in rows)
        assert clean >= 10, name
        if label is not None:
            assert sum(label in row["limitations"] for row in rows) >= 20, name


@pytest.mark.parametrize("name", [row[0] for row in FLOORS])
def test_evidence_is_what_the_user_typed(name: str) -> None:
    for line in (SETS / name).read_text(encoding="utf-8").splitlines():
        query = json.loads(line)["query"]
        for limitation in analyze(query).limitations:
            assert limitation.evidence and all(text in query for text in limitation.evidence), (query, limitation)


@pytest.mark.parametrize(
    ("query", "kind", "evidence"),
    [
        ("a nurse bandaging a soldier", "compositional", "nurse bandaging a soldier"),
        ("a woman passing the salt to an old man", "compositional", "woman passing the salt to an old man"),
        ("the dog is wet and the cat is dry", "compositional", "cat is dry"),
        ("a scowling man next to a smiling woman", "compositional", "scowling man"),
        ("a teapot with a cup to its right", "spatial", "to its right"),
        ("a fox peeking out from under a parked car", "spatial", "from under a parked car"),
        ("pics of tom at the lake", "fine_grained", "tom"),
        ("heron standing in shallow water", "fine_grained", "heron"),
    ],
)
def test_new_rules_point_at_their_words(query: str, kind: str, evidence: str) -> None:
    result = analyze(query)
    assert result.has(kind), result.kinds
    found = next(limitation for limitation in result.limitations if limitation.kind.value == kind)
    assert evidence in found.evidence, found.evidence


@pytest.mark.parametrize(
    "query",
    [
        "a smiling woman with grey hair",  # a mood and a colour cannot trade places
        "a farmer herding sheep",  # a bare plural: a habitual activity
        "couple hugging on a bridge",  # symmetric
        "leopard print leggings",
        "Jaguar dealership",
        "puma sneakers",
        "pics of summer at the lake",
        "a jacket against a white background",
        "a road trip across america",
        "Nothing Phone on a desk",
    ],
)
def test_new_rules_leave_traps_alone(query: str) -> None:
    assert analyze(query).clip_ok, analyze(query).kinds
