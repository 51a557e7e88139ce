"""Bad and odd input: a clear answer or a clear UsageError, never a crash, and time linear in length."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from clipaware.errors import UsageError
from clipaware.query import MAX_QUERY_CHARS, analyze


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\x00\x01\x02", "\u200b\u200b"])
def test_empty_queries_are_refused(text: str) -> None:
    with pytest.raises(UsageError, match="empty"):
        analyze(text)


def test_non_string_is_refused() -> None:
    with pytest.raises(UsageError, match="text"):
        analyze(None)  # type: ignore[arg-type]


def test_too_long_is_refused_with_the_limit() -> None:
    with pytest.raises(UsageError, match="10,000"):
        analyze("dog " * 3000)


def test_long_query_is_analysed_in_linear_time() -> None:
    unit = "two red cars to the left of a blue truck without people, "
    long_query = (unit * (MAX_QUERY_CHARS // len(unit)))[:MAX_QUERY_CHARS]
    half_query = long_query[: MAX_QUERY_CHARS // 2]
    analyze(half_query)
    start = time.perf_counter()
    analyze(half_query)
    half = time.perf_counter() - start
    start = time.perf_counter()
    result = analyze(long_query)
    full = time.perf_counter() - start
    assert result.has("counting") and result.has("spatial") and result.has("negation")
    assert full < 2.0
    assert full < 4 * half + 0.05  # linear, with slack for a busy machine


@pytest.mark.parametrize(
    "text",
    ["猫が二匹いる写真", "un perro sin collar", "🐶🐱🐶", "🐶 next to 🐱", "a cat\x07 under\x1b a table"],
)
def test_odd_input_gets_an_answer(text: str) -> None:
    result = analyze(text)
    for limitation in result.limitations:
        assert all(evidence in text for evidence in limitation.evidence)
        assert "\x07" not in "".join(limitation.evidence)


def test_warnings_for_unreadable_queries() -> None:
    assert analyze("猫が二匹いる写真").parse.warnings
    assert analyze("🐶🐱🐶").parse.warnings
    assert analyze("ein Hund ohne Leine am Strand").parse.warnings
    assert analyze("a cat under a table").parse.warnings == ()


def test_control_characters_do_not_hide_words() -> None:
    assert analyze("a cat\x07 under\x1b a table").has("spatial")


def test_analyzer_does_not_import_torch() -> None:
    code = (
        "import sys; from clipaware.query import analyze; analyze('three dogs'); "
        "print('torch' in sys.modules or 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_seeded_fuzz_never_crashes_and_evidence_is_exact() -> None:
    import json
    import random
    from pathlib import Path

    cases = Path(__file__).with_name("cases.jsonl").read_text(encoding="utf-8").splitlines()
    words = " ".join(json.loads(line)["query"] for line in cases if line.strip()).split()
    symbols = [*"-'\"?!.,:;/#+%()[]0123456789", "🐶", "é", "猫", "\x00", "\u200b", "\n", "’", "“"]
    rng = random.Random(7)
    for _ in range(1500):
        pool = words if rng.random() < 0.6 else words + symbols
        query = " ".join(rng.choice(pool) for _ in range(rng.randint(1, 20)))
        try:
            result = analyze(query)
        except UsageError:
            continue
        json.dumps(result.to_dict())
        for limitation in result.limitations:
            assert all(evidence in query for evidence in limitation.evidence), query


def test_benchmark_script_reports_a_rate() -> None:
    import json
    import os
    from pathlib import Path

    repo = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(repo / "src")}
    done = subprocess.run(
        [
            sys.executable,
            str(repo / "benchmarks" / "query_speed.py"),
            "--json",
            "--rounds",
            "1",
            "--repeat",
            "1",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    figures = json.loads(done.stdout)
    assert figures["queries_per_second"] > 0 and figures["baseline_split_queries_per_second"] > 0
    assert figures["target_queries_per_second"] == 10_000


def _digit_like_characters() -> list[str]:
    """Every character Python calls a digit that int() refuses (superscripts, circled and parenthesised)."""
    return [c for c in map(chr, range(0x110000)) if c.isdigit() and not c.isdecimal()]


def test_digits_int_refuses_are_words_not_crashes() -> None:
    odd = _digit_like_characters()
    assert len(odd) >= 128 and {"²", "³", "①", "⓸"} <= set(odd)
    for c in odd:
        analyze(f"2{c} cubes")
        analyze(f"{c} dogs on a sofa")
    assert analyze("3 dogs").parse.counts[0].value == 3  # plain decimal digits still count
    assert analyze("٣ dogs").parse.counts[0].value == 3  # so do other scripts' decimal digits


def test_a_json_line_nested_too_deep_is_a_usage_error(tmp_path) -> None:
    from clipaware.query.files import read_queries

    path = tmp_path / "queries.jsonl"
    path.write_text('{"query": "a dog"}\n{"query": ' + "[" * 200_000 + "\n")
    queries = read_queries(path)
    assert next(queries) == "a dog"
    with pytest.raises(UsageError, match=r"queries.jsonl:2: a JSON line needs"):
        next(queries)
