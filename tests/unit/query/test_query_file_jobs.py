"""``check --file`` on a large file: split across processes, same lines in the same order as one process."""

from __future__ import annotations

import json
from pathlib import Path

from clipaware.query.files import PARALLEL_FROM, check_file_lines, read_queries

QUERIES = ["three dogs on a sofa", "sunset beach", "", "a cat chasing a dog", "drei Katzen ohne Halsband", "   "]


def test_parallel_matches_sequential(tmp_path: Path) -> None:
    source = tmp_path / "many.txt"
    lines = [QUERIES[k % len(QUERIES)] or f"query number {k}" for k in range(PARALLEL_FROM + 37)]
    lines[5] = json.dumps({"query": "x" * 10_001})  # refused: an error line, not a crash
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    one = list(check_file_lines(read_queries(source), jobs=1))
    two = list(check_file_lines(read_queries(source), jobs=2))
    assert one == two and len(one) == len([line for line in lines if line.strip()])
    assert "error" in json.loads(one[5]) and json.loads(one[0])["clip_ok"] is False
    assert json.loads(one[4])["language"] == "de" and json.loads(one[4])["clip_ok"] is None


def test_small_files_stay_in_process(tmp_path: Path) -> None:
    source = tmp_path / "few.txt"
    source.write_text("a red car\nno people on the beach\n", encoding="utf-8")
    results = [json.loads(line) for line in check_file_lines(read_queries(source), jobs=0)]
    assert [result["clip_ok"] for result in results] == [True, False]
