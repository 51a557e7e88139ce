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


def _reference_groups(matrix: np.ndarray, paths: list[str], threshold: float) -> list[tuple[tuple[str, ...], float]]:
    """Pairs one by one and a plain union-find: slow, obviously right."""
    n = len(paths)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    sims = matrix @ matrix.T
    edges = [(i, j, float(sims[i, j])) for i in range(n) for j in range(i + 1, n) if sims[i, j] >= threshold - 1e-6]
    for i, j, _ in edges:
        parent[find(j)] = find(i)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    weakest = {root: min((s for i, j, s in edges if find(i) == root), default=1.0) for root in groups}
    found = [(tuple(sorted(paths[i] for i in m)), weakest[r]) for r, m in groups.items() if len(m) > 1]
    return sorted(found, key=lambda g: (-len(g[0]), g[0]))


@pytest.mark.parametrize("block_cells", [300 * 7, 300 * 64, 16 * 1024 * 1024])  # 7 rows, 64 rows, all at once
@pytest.mark.parametrize("threshold", [0.8, 0.9, 0.95])
def test_vectorised_groups_equal_pairwise_union_find(monkeypatch, block_cells: int, threshold: float) -> None:
    import clipaware.tasks.duplicates as duplicates

    rng = np.random.default_rng(3)
    centers = rng.normal(size=(40, 16))
    matrix = _unit(centers[rng.integers(0, 40, 300)] + 0.25 * rng.normal(size=(300, 16)))
    paths = [f"{i:03d}.jpg" for i in range(300)]
    monkeypatch.setattr(duplicates, "BLOCK_CELLS", block_cells)
    got = [(g.paths, g.min_score) for g in duplicate_groups(matrix, paths, threshold)]
    expected = _reference_groups(matrix, paths, threshold)
    assert [p for p, _ in got] == [p for p, _ in expected] and len(got) > 1
    assert [s for _, s in got] == pytest.approx([s for _, s in expected], abs=1e-6)


def test_a_threshold_that_links_everything_is_refused_not_run_for_minutes() -> None:
    matrix = _unit(np.random.default_rng(0).normal(size=(200, 8)) + 5.0)  # all alike
    with pytest.raises(UsageError, match="more than 1,000 pairs"):
        duplicate_groups(matrix, [str(i) for i in range(200)], 0.01, max_pairs=1000)
    assert len(duplicate_groups(matrix, [str(i) for i in range(200)], 0.01)[0].paths) == 200  # under the default cap
