"""The data files: they load, they are consistent, and tokens keep exact spans."""

from __future__ import annotations

from importlib import resources

from clipaware.query.lexicon import get_lexicon
from clipaware.query.lexicons import read_rows
from clipaware.query.tokens import tokenize

CANONICAL = {
    "left_of",
    "right_of",
    "above",
    "below",
    "on_top_of",
    "under",
    "next_to",
    "inside",
    "between",
    "either_side_of",
    "behind",
    "in_front_of",
    "opposite",
    "facing",
    "near",
    "outside",
}


def test_every_lexicon_file_parses_and_is_not_empty() -> None:
    names = [entry.name for entry in resources.files("clipaware.query.lexicons").iterdir()]
    assert len([name for name in names if name.endswith(".txt")]) >= 30
    for name in names:
        if name.endswith(".txt"):
            assert read_rows(name), name


def test_relations_use_known_canonical_names() -> None:
    for row in read_rows("relations.txt"):
        assert row[1] in CANONICAL and row[2] in ("strong", "weak", "pronoun"), row


def test_lexicon_is_loaded_once() -> None:
    assert get_lexicon() is get_lexicon()


def test_tokens_keep_exact_spans_and_normalise() -> None:
    text = "Two grey Cats w/o collars, infront of the colour TV"
    tokens = tokenize(text)
    for token in tokens:
        assert text[token.start : token.end] == token.text
    norms = [token.norm for token in tokens]
    assert norms[:3] == ["two", "gray", "cats"]
    assert "w/o" in norms and "in" in norms and "front" in norms and "color" in norms
    assert "cat" in tokens[2].forms
    assert tokens[2].cap is True


def test_swapped_letters_are_repaired_only_for_key_words() -> None:
    assert [t.norm for t in tokenize("lfet rigth there form")] == ["left", "right", "there", "form"]


def test_detector_gates_cover_their_word_lists() -> None:
    """Detectors skip queries without a cue word; every word that can start a finding must be a cue."""
    from clipaware.query.counting import COUNT_CUES
    from clipaware.query.spatial import FRAME_CUES
    from clipaware.query.tokens import normalise_word

    lexicon = get_lexicon()
    assert set(lexicon.collectives) <= COUNT_CUES
    assert {normalise_word(word) for word in lexicon.frame_words} <= FRAME_CUES
