"""How many queries per second ``clipaware.query.analyze`` checks on one core.

The issue asks for at least 10,000 queries/s. The baseline printed beside it is the cost of only splitting
the same queries into words (``str.split``), the least any analyzer must do, so the ratio says how much the
rules cost on top. Queries come from ../shared/queries/dev.jsonl when present, else from the package's own
test cases, else from a built-in list; each is analysed many times, best round reported.

    PYTHONPATH=src python benchmarks/query_speed.py [--rounds 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = (
    REPO.parent / "shared" / "queries" / "dev.jsonl",
    REPO / "tests" / "unit" / "query" / "cases.jsonl",
)
FALLBACK = [
    "a red car to the left of a blue truck",
    "three dogs on a beach",
    "Taylor Swift performing on stage",
    "a beach with no people",
    "a dog chasing a cat",
    "sunset over the mountains",
]


def load_queries() -> tuple[list[str], str]:
    for source in SOURCES:
        if source.exists():
            lines = source.read_text(encoding="utf-8").splitlines()
            return [json.loads(line)["query"] for line in lines if line.strip()], str(source.name)
    return FALLBACK, "built-in list"


def best_rate(fn, queries: list[str], rounds: int, clock) -> float:
    """Best queries/s over ``rounds`` passes, timed with ``clock`` (wall or process CPU time)."""
    best = 0.0
    for _ in range(rounds):
        start = clock()
        for query in queries:
            fn(query)
        elapsed = clock() - start
        if elapsed > 0:
            best = max(best, len(queries) / elapsed)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed passes over the queries (best is kept)")
    parser.add_argument("--repeat", type=int, default=10, help="copies of the query list in one pass")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)

    from clipaware.query import analyze

    base, source = load_queries()
    queries = base * args.repeat
    for query in base:  # warm the word caches and load the lexicons before timing
        analyze(query)
    wall = best_rate(analyze, queries, args.rounds, time.perf_counter)
    cpu = best_rate(analyze, queries, args.rounds, time.process_time)
    baseline = best_rate(str.split, queries, args.rounds, time.perf_counter)
    result = {
        "queries": len(base),
        "source": source,
        "queries_per_second": round(wall),
        "cpu_queries_per_second": round(cpu),
        "baseline_split_queries_per_second": round(baseline),
        "ratio_to_baseline": round(wall / baseline, 4) if baseline else None,
        "target_queries_per_second": 10_000,
        "meets_target": wall >= 10_000,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"analyze(): {result['queries_per_second']:,} queries/s wall-clock on one core "
            f"({result['cpu_queries_per_second']:,}/s by process CPU time)"
        )
        print(
            f"baseline str.split: {result['baseline_split_queries_per_second']:,} queries/s; "
            f"ratio analyze/baseline = {result['ratio_to_baseline']}"
        )
        print(
            f"{len(base)} distinct queries from {source}; target 10,000/s: "
            f"{'met' if result['meets_target'] else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
