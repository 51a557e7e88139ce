"""Scoring the analyzer against labelled queries (``clipaware check --evaluate F.jsonl``).

Each line is ``{"query": ..., "limitations": [...]}``. The report gives per-label precision, recall and F1,
their macro average, the share of limitation-free queries that were wrongly flagged (false alarms cost
users the most: they are told not to use CLIP when CLIP was fine) and every miss, so rules can be fixed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clipaware.errors import UsageError
from clipaware.query.analysis import LimitationKind
from clipaware.query.analyze import analyze

LABELS = tuple(kind.value for kind in LimitationKind)


@dataclass(frozen=True)
class LabelScore:
    """Precision/recall/F1 for one label, with the raw counts behind them."""

    label: str
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float | None:
        """None when the label was never predicted: no precision to speak of (not a perfect 1.0)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        """None when no query carries the label: nothing to recall."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        """None for a label with no examples; 0 when it has examples but was never predicted."""
        p, r = self.precision, self.recall
        if r is None:
            return None
        if p is None:
            return 0.0
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, Any]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        return {
            "label": self.label,
            "precision": rounded(self.precision),
            "recall": rounded(self.recall),
            "f1": rounded(self.f1),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


@dataclass(frozen=True)
class Miss:
    """A query whose predicted labels differ from the expected ones."""

    query: str
    expected: tuple[str, ...]
    predicted: tuple[str, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(label for label in self.expected if label not in self.predicted)

    @property
    def extra(self) -> tuple[str, ...]:
        return tuple(label for label in self.predicted if label not in self.expected)

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "expected": list(self.expected),
            "predicted": list(self.predicted),
            "missing": list(self.missing),
            "extra": list(self.extra),
        }


@dataclass(frozen=True)
class EvaluationReport:
    """Scores for one labelled file."""

    n_queries: int
    scores: tuple[LabelScore, ...]
    n_clean: int
    n_clean_flagged: int
    misses: tuple[Miss, ...]

    @property
    def macro_f1(self) -> float:
        """Mean F1 over the labels that have examples (a label nobody labelled has no F1)."""
        scored = [score.f1 for score in self.scores if score.f1 is not None]
        return sum(scored) / len(scored) if scored else 0.0

    @property
    def false_flag_share(self) -> float:
        """Share of limitation-free queries that got at least one limitation."""
        return self.n_clean_flagged / self.n_clean if self.n_clean else 0.0

    def score(self, label: str) -> LabelScore:
        return next(score for score in self.scores if score.label == label)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_queries": self.n_queries,
            "labels": [score.to_dict() for score in self.scores],
            "macro_f1": round(self.macro_f1, 4),
            "clean_queries": self.n_clean,
            "clean_flagged": self.n_clean_flagged,
            "false_flag_share": round(self.false_flag_share, 4),
            "misses": [miss.to_dict() for miss in self.misses],
        }


def read_labelled(path: Path) -> list[tuple[str, tuple[str, ...]]]:
    """Labelled lines of a JSONL file; a clear UsageError names the first bad line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    items: list[tuple[str, tuple[str, ...]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            query = record["query"]
            labels = tuple(record.get("limitations", []))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise UsageError(f'{path}:{number}: expected a JSON object with "query" and "limitations" ({exc})') from exc
        unknown = [label for label in labels if label not in LABELS]
        if unknown:
            raise UsageError(f"{path}:{number}: unknown label(s) {unknown}; known: {', '.join(LABELS)}")
        items.append((query, labels))
    if not items:
        raise UsageError(f"{path} has no labelled queries")
    return items


def evaluate(items: Iterable[tuple[str, Iterable[str]]]) -> EvaluationReport:
    """Run the analyzer on labelled queries and score it."""
    counts = {label: [0, 0, 0] for label in LABELS}
    misses: list[Miss] = []
    n = n_clean = n_clean_flagged = 0
    for query, expected_labels in items:
        n += 1
        expected = tuple(label for label in LABELS if label in set(expected_labels))
        try:
            predicted = tuple(kind.value for kind in analyze(query).kinds)
        except UsageError:
            predicted = ()
        for label in LABELS:
            if label in predicted and label in expected:
                counts[label][0] += 1
            elif label in predicted:
                counts[label][1] += 1
            elif label in expected:
                counts[label][2] += 1
        if not expected:
            n_clean += 1
            n_clean_flagged += bool(predicted)
        if set(expected) != set(predicted):
            misses.append(Miss(query, expected, predicted))
    scores = tuple(LabelScore(label, *counts[label]) for label in LABELS)
    return EvaluationReport(n, scores, n_clean, n_clean_flagged, tuple(misses))


def evaluate_file(path: Path) -> EvaluationReport:
    """Score the analyzer on one labelled JSONL file."""
    return evaluate(read_labelled(path))
