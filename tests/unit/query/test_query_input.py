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
