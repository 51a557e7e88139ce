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


def _m(name: str, file: str, old: str, new: str, *tests: str) -> Mutation:
    return Mutation(name, file, old, new, tests)


GEOMETRY = "src/clipaware/routes/geometry.py"
ANALYZE = "src/clipaware/query/analyze.py"
SQLITE = "src/clipaware/index/sqlite.py"
ROUTES_TEST = "tests/integration/test_routes.py"

MUTATIONS: tuple[Mutation, ...] = (
    # geometry: where things are, from boxes
    _m("frame right computed as left", GEOMETRY, '"right": ((0.6, 1.0), (0.0, 1.0)),',
       '"right": ((0.0, 0.4), (0.0, 1.0)),', "tests/unit/test_geometry.py"),
    _m("left_of reads right_of", GEOMETRY, 'return _ordered(relation, sx - ox, h_margin, "x")',
       'return _ordered(relation, ox - sx, h_margin, "x")', "tests/unit/test_geometry.py"),
    _m("above reads below", GEOMETRY, 'return _ordered(relation, sy - oy, v_margin, "y")',
       'return _ordered(relation, oy - sy, v_margin, "y")', "tests/unit/test_geometry.py"),
    # the five limitation rules of the analyzer
    _m("counting rule off", ANALYZE, "(COUNTING, [count.text for count, _, _ in counts]),", "(COUNTING, []),",
       "tests/unit/query"),
    _m("fine-grained rule off", ANALYZE,
       "(FINE_GRAINED, [entity.text for entity, e in zip(named, entities, strict=True) if e.fine_grained]),",
       "(FINE_GRAINED, []),", "tests/unit/query"),
    _m("spatial rule off", ANALYZE, "(SPATIAL, [relation.text for relation, _, _ in relations]),", "(SPATIAL, []),",
       "tests/unit/query"),
    _m("compositional rule off", ANALYZE,
       "(COMPOSITIONAL, [mention.text for mention in bound] + [action.text for action, _, _ in actions]),",
       "(COMPOSITIONAL, []),", "tests/unit/query"),
    _m("negation rule off", ANALYZE, "(NEGATION, [term.text for term, _, _ in negations]),", "(NEGATION, []),",
       "tests/unit/query"),
    _m("negation's missing/absent adjective guard off", "src/clipaware/query/negation.py",
       'if cue in ("missing", "absent") and i > 0', 'if False and cue in ("missing", "absent") and i > 0',
       "tests/unit/query/test_query_parse.py"),
    # every route of ask
    _m("count route counts the rejected too", "src/clipaware/routes/count.py",
       "counted = tuple(r for r in regions if r.matches)", "counted = tuple(regions)", ROUTES_TEST),
    _m("relate route answers the opposite", "src/clipaware/routes/relate.py",
       "return None if self.verdict is Verdict.UNKNOWN else self.verdict is Verdict.HOLDS",
       "return None if self.verdict is Verdict.UNKNOWN else self.verdict is not Verdict.HOLDS",
       ROUTES_TEST),
    _m("frame route prefers a miss", "src/clipaware/routes/frame.py",
       "verdict = next((v for v in (Verdict.HOLDS, Verdict.UNKNOWN) if v in verdicts), Verdict.FAILS)",
       "verdict = Verdict.FAILS if Verdict.FAILS in verdicts else Verdict.HOLDS", ROUTES_TEST),
    _m("bind route ignores the swap", "src/clipaware/routes/bind.py",
       "return self.log_score >= self.swapped_log_score", "return True", ROUTES_TEST),
    _m("negate route inverted", "src/clipaware/routes/negate.py", "return NegationAnswer(excluded, not found, found)",
       "return NegationAnswer(excluded, bool(found), found)", ROUTES_TEST),
    _m("roles route reads the margin backwards", "src/clipaware/routes/roles.py",
       "answer = None if abs(margin) < MARGIN else margin > 0", "answer = None if abs(margin) < MARGIN else margin < 0",
       ROUTES_TEST),
    _m("identify route says yes to any label", "src/clipaware/routes/identify.py",
       'else label in asked or asked in label', "else True", ROUTES_TEST),
    _m("clip route says yes to anything", "src/clipaware/routes/clip.py",
       'answer = (score.verdict == "match") if score.calibrated else None',
       "answer = True if score.calibrated else None", ROUTES_TEST),
    _m("combine forgets a no", "src/clipaware/tasks/ask.py", "if any(x is False for x in answers):", "if False:",
       "tests/unit/test_ask_plan.py", "tests/e2e/test_ask_cli.py"),
    # the index's model check and the rules of the derived ANN file
    _m("index accepts another model", SQLITE, "if model_name and model_name != self.model_name:", "if False:",
       "tests/integration/test_indexing.py", "tests/integration/test_library.py"),
    _m("ANN kept when the size calls for the other kind", SQLITE, "if cached.kind != ann_kind_for(total):",
       "if False:", "tests/integration/test_ann.py"),
    _m("ANN trusted when newer than a restored database", SQLITE,
       "if cached is not None and cached.generation > generation:", "if False:", "tests/integration/test_ann.py"),
)  # fmt: skip


def run_one(mutation: Mutation, workdir: Path) -> dict[str, object]:
    """Apply ``mutation`` to a copy of the tree under ``workdir`` and run its tests there."""
    # a plain folder name: PYTHONPATH splits on ':', and the copy must be what the tests import
    copy = workdir / "".join(c if c.isalnum() else "_" for c in mutation.name)
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
    probe = "import clipaware, sys; sys.stdout.write(clipaware.__file__)"
    where = subprocess.run([sys.executable, "-c", probe], cwd=copy, env=env, capture_output=True, text=True).stdout
    if not where.startswith(str(copy)):
        return {"name": mutation.name, "status": "error", "detail": f"tests would import {where}, not the copy"}
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
