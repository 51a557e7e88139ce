"""The ground-floor word helpers every layer shares."""

from __future__ import annotations

import pytest

from clipaware.query.lexicon import get_lexicon
from clipaware.words import NUMBER_WORDS, ing_form


@pytest.mark.parametrize(
    ("verb", "participle"),
    [("chase", "chasing"), ("run", "running"), ("stop", "stopping"), ("open", "opening"), ("lie", "lying"),
     ("see", "seeing"), ("feed", "feeding"), ("play", "playing"), ("fix", "fixing"), ("pick up", "picking up")],
)  # fmt: skip
def test_ing_form(verb: str, participle: str) -> None:
    assert ing_form(verb) == participle


def test_number_words_spell_their_index_and_the_analyzer_reads_them() -> None:
    assert NUMBER_WORDS[0] == "zero" and NUMBER_WORDS[7] == "seven" and NUMBER_WORDS[-1] == "twenty"
    numbers = get_lexicon().numbers
    assert all(numbers[word] == value for value, word in enumerate(NUMBER_WORDS))
    assert numbers["dozen"] == 12 and numbers["thirty"] == 30  # the lexicon adds the rest
