"""Calibrating a CLIP score against unrelated captions, and saying so when there is nothing to calibrate against."""

from __future__ import annotations

import numpy as np
import pytest

from clipaware.tasks.calibrate import MIN_NULL, NULL_CAPTIONS, calibrate
from clipaware.tasks.diagnose import Probe


def _null(n: int = len(NULL_CAPTIONS), seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.18, 0.015, n)


def test_a_score_far_above_the_null_is_a_match_with_its_rank() -> None:
    null = _null()
    score = calibrate(0.30, null, "a cat")
    assert score.calibrated and score.verdict == "match" and score.z > 5
    assert score.beats == 1.0 and score.null_size == len(null)
    middle = calibrate(float(np.median(null)), null)
    assert middle.verdict == "no match" and abs(middle.z) < 0.1 and 0.4 <= middle.beats <= 0.6
    assert "probability" not in score.to_dict()  # a normal CDF is not a p-value: not reported as one


def test_a_collapsed_null_cannot_calibrate() -> None:
    """Out-of-vocabulary captions embed as one vector: the spread is ~0 and z would be thousands."""
    collapsed = np.full(len(NULL_CAPTIONS), 0.1065)
    collapsed[:5] += np.linspace(0, 0.03, 5)
    score = calibrate(0.81, collapsed, "a red circle")
    assert not score.calibrated and score.verdict == "cannot calibrate"
    assert score.z is None and score.beats is None and "spread" in score.note
    assert score.to_dict()["z"] is None and score.to_dict()["reason"] == score.note


def test_too_few_readable_captions_cannot_calibrate() -> None:
    score = calibrate(0.5, _null(MIN_NULL - 1))
    assert score.verdict == "cannot calibrate" and f"only {MIN_NULL - 1} of" in score.note


def test_a_negative_similarity_is_never_a_match() -> None:
    null = np.random.default_rng(1).normal(-0.20, 0.005, len(NULL_CAPTIONS))  # a tight null far below zero
    score = calibrate(-0.05, null)
    assert score.z > 20 and score.verdict == "no match"


@pytest.mark.parametrize(
    ("delta", "verdict"), [(0.03, "distinct"), (0.004, "CLIP cannot tell"), (-0.04, "CLIP prefers this")]
)
def test_a_probe_that_beats_the_query_is_not_distinct(delta: float, verdict: str) -> None:
    probe = Probe("swap_attributes", "a blue circle and a red square", 0.5 - delta, delta)
    assert probe.verdict == verdict
    assert probe.to_dict()["clip_prefers_probe"] is (verdict == "CLIP prefers this")
