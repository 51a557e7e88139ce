"""`clipaware duplicates` grouping: the vectorised blockwise pass against the pairwise Python loop it replaced.

Clustered random unit vectors stand in for an index (grouping cost depends on the count, the dimension and
how many pairs pass the threshold, not on what the vectors mean). Both implementations run in this process
on the same matrix; the script prints the load average, each time and peak Python allocation, and the ratio.
The baseline is skipped where it would take minutes (more than ``--baseline-max-pairs`` linked pairs).

    python benchmarks/duplicates.py                    # 10k x 512, thresholds 0.95 and 0.5
    python benchmarks/duplicates.py --n 100000 --thresholds 0.95 --no-baseline
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc

import numpy as np

from clipaware.tasks.duplicates import duplicate_groups


def pairwise_baseline(matrix: np.ndarray, paths: list[str], threshold: float) -> list[tuple[tuple[str, ...], float]]:
    """The implementation before issue 15: union-find driven by a Python loop over every linked pair."""
    n = matrix.shape[0]
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    weakest: dict[int, float] = {}
    for start in range(0, n, 1024):
        sims = matrix[start : start + 1024] @ matrix.T
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
    return [(tuple(sorted(paths[i] for i in m)), weakest.get(r, 1.0)) for r, m in members.items() if len(m) > 1]


def timed(fn, *args):  # type: ignore[no-untyped-def]
    tracemalloc.start()
    start = time.perf_counter()
    result = fn(*args)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return result, seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.95, 0.5])
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--baseline-max-pairs", type=int, default=5_000_000)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    centers = rng.normal(size=(args.n // 20, args.dim))
    matrix = centers[rng.integers(0, len(centers), args.n)] + 0.35 * rng.normal(size=(args.n, args.dim))
    matrix = (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)
    paths = [f"/lib/{i:07d}.jpg" for i in range(args.n)]
    print(f"load average before: {os.getloadavg()}; {args.n} vectors x {args.dim}")
    for threshold in args.thresholds:
        ours, t_ours, m_ours = timed(duplicate_groups, matrix, paths, threshold)
        line = f"threshold {threshold}: vectorised {t_ours:.2f} s, peak {m_ours:.0f} MB, {len(ours)} groups"
        pairs = sum(len(g.paths) * (len(g.paths) - 1) // 2 for g in ours)  # an upper bound on linked pairs
        if not args.no_baseline and pairs <= args.baseline_max_pairs:
            base, t_base, m_base = timed(pairwise_baseline, matrix, paths, threshold)
            assert sorted(p for p, _ in base) == sorted(g.paths for g in ours), "implementations disagree"
            line += f"; pairwise baseline {t_base:.2f} s, peak {m_base:.0f} MB; speed-up x{t_base / t_ours:.1f}"
        print(line)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
