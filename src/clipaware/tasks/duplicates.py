"""Near-duplicate groups: images whose embeddings are almost the same vector.

Two files are near-duplicates when the cosine similarity of their embeddings is at least the threshold
(default 0.95). Re-encodes, resizes and light crops of one photo land above ~0.95 with CLIP ViT-B/32;
different photos of the same scene (burst shots) usually fall between 0.85 and 0.95; unrelated photos
are far lower. Groups are the connected components of that "near" relation (union-find), computed
blockwise so memory stays at one block of the similarity matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from clipaware.errors import UsageError

if TYPE_CHECKING:
    from clipaware.library import Library

DEFAULT_THRESHOLD = 0.95


@dataclass(frozen=True)
class DuplicateGroup:
    """Files that are near-duplicates of each other; ``min_score`` is the weakest link that joined them."""

    paths: tuple[str, ...]
    min_score: float

    def to_dict(self) -> dict[str, object]:
        return {"paths": list(self.paths), "min_score": round(self.min_score, 6)}


def duplicate_groups(matrix: np.ndarray, paths: list[str], threshold: float) -> list[DuplicateGroup]:
    """Group rows whose cosine similarity reaches ``threshold``, largest groups first."""
    if not 0.0 < threshold <= 1.0:
        raise UsageError("--threshold must be in (0, 1]")
    n = matrix.shape[0]
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    weakest: dict[int, float] = {}
    block = 1024
    for start in range(0, n, block):
        sims = matrix[start : start + block] @ matrix.T
        rows, cols = np.nonzero(sims >= threshold - 1e-6)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            i = start + r
            if c <= i:
                continue
            a, b = find(i), find(c)
            score = float(sims[r, c])
            if a != b:
                parent[b] = a
                weakest[a] = min(weakest.get(a, 1.0), weakest.pop(b, 1.0), score)
            else:
                weakest[a] = min(weakest.get(a, 1.0), score)
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(find(i), []).append(i)
    groups = [
        DuplicateGroup(tuple(sorted(paths[i] for i in idx)), weakest.get(root, 1.0))
        for root, idx in members.items()
        if len(idx) > 1
    ]
    return sorted(groups, key=lambda g: (-len(g.paths), g.paths))


def find_duplicates(library: Library, threshold: float = DEFAULT_THRESHOLD) -> list[DuplicateGroup]:
    """Near-duplicate groups among all indexed images (stored vectors only: no model is loaded)."""
    paths, matrix = library.store.matrix()
    return duplicate_groups(matrix, paths, threshold)
