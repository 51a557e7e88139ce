"""Exact top-k and near-duplicate grouping on hand-made vectors."""

from __future__ import annotations

import numpy as np
import pytest

from clipaware.errors import UsageError
from clipaware.tasks.duplicates import duplicate_groups
from clipaware.tasks.search import top_k


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_top_k_equals_a_full_sort() -> None:
    rng = np.random.default_rng(1)
    matrix = _unit(rng.normal(size=(500, 16)))
    query = matrix[42] + 0.1 * rng.normal(size=16).astype(np.float32)
    got = top_k(matrix, query, 7)
    scores = matrix @ query
    assert [i for i, _ in got] == list(np.argsort(-scores)[:7])
    assert got[0][0] == 42
    assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)


def test_top_k_handles_small_and_empty_inputs() -> None:
    matrix = _unit(np.eye(3))
    assert top_k(matrix, matrix[1], 10)[0][0] == 1
    assert len(top_k(matrix, matrix[1], 10)) == 3
    assert top_k(np.zeros((0, 3), np.float32), matrix[0], 5) == []


def test_duplicate_groups_are_connected_components_above_threshold() -> None:
    base = _unit(np.eye(4, 8))
    near = _unit(base[0:1] + 0.05 * np.eye(1, 8, 5))  # a near copy of row 0
    chain = _unit(near + 0.05 * np.eye(1, 8, 6))  # near the copy, so joined transitively
    matrix = np.concatenate([base, near, chain])
    paths = ["a", "b", "c", "d", "a_copy", "a_copy2"]
    groups = duplicate_groups(matrix, paths, threshold=0.99)
    assert [g.paths for g in groups] == [("a", "a_copy", "a_copy2")]
    assert 0.99 <= groups[0].min_score < 1.0
    assert duplicate_groups(matrix, paths, threshold=0.999999) == []


def test_duplicate_threshold_must_be_a_similarity() -> None:
    with pytest.raises(UsageError):
        duplicate_groups(np.zeros((1, 2), np.float32), ["a"], threshold=1.5)
