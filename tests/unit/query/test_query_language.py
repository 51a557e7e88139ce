"""Other languages get their code and no verdict; English with a foreign name in it stays English."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clipaware.query import analyze

SET = Path(__file__).parent / "sets" / "languages.jsonl"
ROWS = [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("row", ROWS, ids=[row["query"] for row in ROWS])
def test_language_set(row: dict) -> None:
    result = analyze(row["query"])
    assert result.language == row["language"]
    if row["language"] == "en":
        assert result.clip_ok is not None
    else:
        assert result.clip_ok is None and result.limitations == ()
        assert any("English only" in warning and "SigLIP 2" in warning for warning in result.parse.warnings)


def test_non_english_json_says_null_never_true() -> None:
    data = analyze("drei Katzen ohne Halsband").to_dict()
    assert data["language"] == "de" and data["clip_ok"] is None and data["limitations"] == []
    assert analyze("three cats without a collar").to_dict()["language"] == "en"


def test_script_decides_before_words() -> None:
    assert analyze("猫が二匹いる写真").language == "ja"
    assert analyze("两只狗在草地上").language == "zh"
    assert analyze("🐶🐱🐶").language == "en"  # nothing to read: the existing warning says so
