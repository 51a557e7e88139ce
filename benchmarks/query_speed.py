"""How many queries per second the analyzer checks: in-process (``analyze``) and through the CLI.

The bar is 10,000 queries/s through ``clipaware check --file F --json`` on one core, start-up excluded. The
CLI figure runs the real command twice in a subprocess, on a file of N queries and on a file of one, and
divides the difference: what is left is the per-query cost of reading, analysing and writing JSON lines.
The in-process figure times ``analyze(q).to_dict()``. The baseline printed beside them is the cost of only
splitting the same queries into words (``str.split``), the least any analyzer must do. Queries come from
../shared/queries/dev.jsonl when present, else from the package's own test cases, else from a built-in list.
On a shared machine the wall clock is noisy: the process-CPU figure is printed too, and ``uptime``'s load.

    PYTHONPATH=src python benchmarks/query_speed.py [--rounds 7] [--cli-queries 20000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
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


def _run_cli(path: Path, jobs: int) -> tuple[float, float]:
    """Wall and child CPU seconds of one ``clipaware check --file PATH --json --jobs N`` run (output discarded)."""
    code = "from clipaware.cli import main; main()"
    before = os.times()
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code, "check", "--file", str(path), "--json", "--jobs", str(jobs)],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")},
    )
    wall = time.perf_counter() - start
    after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def cli_rates(base: list[str], count: int, rounds: int, jobs: int) -> tuple[float, float]:
    """Queries/s through the CLI, start-up excluded: (wall, CPU), best of ``rounds`` pairs of runs.

    CPU time counts the worker processes too, so with several jobs it measures work, not elapsed time.
    """
    with tempfile.TemporaryDirectory() as folder:
        big, small = Path(folder) / "many.txt", Path(folder) / "one.txt"
        lines = [base[k % len(base)].replace("\n", " ") for k in range(count)]
        big.write_text("\n".join(lines) + "\n", encoding="utf-8")
        small.write_text(lines[0] + "\n", encoding="utf-8")
        best_wall = best_cpu = 0.0
        for _ in range(rounds):
            wall_big, cpu_big = _run_cli(big, jobs)
            wall_small, cpu_small = _run_cli(small, jobs)
            if wall_big > wall_small:
                best_wall = max(best_wall, (count - 1) / (wall_big - wall_small))
            if cpu_big > cpu_small:
                best_cpu = max(best_cpu, (count - 1) / (cpu_big - cpu_small))
    return best_wall, best_cpu


def _load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed passes over the queries (best is kept)")
    parser.add_argument("--repeat", type=int, default=10, help="copies of the query list in one pass")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--cli-queries", type=int, default=20_000, help="lines in the file the CLI checks")
    parser.add_argument("--cli-rounds", type=int, default=3, help="timed pairs of CLI runs (best is kept)")
    args = parser.parse_args(argv)

    from clipaware.query import analyze

    base, source = load_queries()
    queries = base * args.repeat
    for query in base:  # warm the word caches and load the lexicons before timing
        analyze(query)
    load_before = _load()

    def to_json(query: str) -> dict:
        return analyze(query).to_dict()

    wall = best_rate(to_json, queries, args.rounds, time.perf_counter)
    cpu = best_rate(to_json, queries, args.rounds, time.process_time)
    baseline = best_rate(str.split, queries, args.rounds, time.perf_counter)
    measure_cli = args.cli_queries > 1
    cli_wall, cli_cpu = cli_rates(base, args.cli_queries, args.cli_rounds, 1) if measure_cli else (0.0, 0.0)
    cores_wall, _ = cli_rates(base, args.cli_queries, args.cli_rounds, 0) if measure_cli else (0.0, 0.0)
    result = {
        "queries": len(base),
        "source": source,
        "queries_per_second": round(wall),
        "cpu_queries_per_second": round(cpu),
        "cli_queries_per_second": round(cli_wall),
        "cli_cpu_queries_per_second": round(cli_cpu),
        "cli_all_cores_queries_per_second": round(cores_wall),
        "cores": os.cpu_count(),
        "baseline_split_queries_per_second": round(baseline),
        "ratio_to_baseline": round(wall / baseline, 4) if baseline else None,
        "target_queries_per_second": 10_000,
        "meets_target": max(cli_wall, cores_wall) >= 10_000,
        "load_average": f"{load_before} -> {_load()}",
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"analyze().to_dict(): {result['queries_per_second']:,} queries/s wall-clock on one core "
            f"({result['cpu_queries_per_second']:,}/s by process CPU time)"
        )
        print(
            f"clipaware check --file F --json ({args.cli_queries:,} lines, start-up excluded): "
            f"{result['cli_queries_per_second']:,} queries/s wall-clock with --jobs 1 "
            f"({result['cli_cpu_queries_per_second']:,}/s by CPU time); "
            f"{result['cli_all_cores_queries_per_second']:,}/s wall-clock on all {result['cores']} cores (--jobs 0)"
        )
        print(
            f"baseline str.split: {result['baseline_split_queries_per_second']:,} queries/s; "
            f"ratio analyze/baseline = {result['ratio_to_baseline']}"
        )
        print(
            f"{len(base)} distinct queries from {source}; target 10,000/s through the CLI: "
            f"{'met' if result['meets_target'] else 'NOT met'}; load average {result['load_average']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
