"""Splitting a query into tokens that remember where they came from.

Every token keeps its character span in the original query, so evidence is always an exact substring of
what the user typed, while the rules compare normalised forms: lower case, British spellings and casual
forms mapped to one spelling ("colour" -> "color", "ppl" -> "people", "w/o" -> "without"), two-letter
swaps repaired for the words that matter ("rigth" -> "right"), and singular guesses for plurals.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from typing import NamedTuple

from clipaware.query.lexicons import known_words, read_rows
from clipaware.words import IRREGULAR_PLURALS, NUMBER_WORDS

# A word is letters/digits joined by apostrophes, hyphens or dots ("don't", "F-150", "U.S."); "w/o" and
# "w/out" stay whole; any other visible character is a token of its own. Control characters separate tokens,
# so they never reach evidence.
_TOKEN_RE = re.compile(
    r"(?i:w/out|w/o|w/)(?![^\W_])"
    r"|[^\W_]+(?:['’][^\W_]+)*(?:[-.][^\W_]+(?:['’][^\W_]+)*)*"
    r"|[^\s\x00-\x1f\x7f-\x9f]"
)


class Token(NamedTuple):
    """One word or symbol of the query.

    ``norm`` is the normalised spelling; ``forms`` adds singular guesses ("puppies" -> "puppy", "747s" ->
    "747") so that lexicon lookups need no plural lists. ``cap`` records a capital first letter, a cue for
    names that lower-casing would lose. A named tuple because queries make many tokens and tuples are
    the cheapest immutable records to build.
    """

    text: str
    start: int
    end: int
    norm: str
    forms: frozenset[str]
    cap: bool


def forms_of(word: str) -> frozenset[str]:
    """The word plus its plausible singulars; over-generating is harmless because lookups are exact."""
    forms = {word}
    if word in IRREGULAR_PLURALS:
        forms.add(IRREGULAR_PLURALS[word])
    if word.endswith(("'s", "’s")):
        word = word[:-2]
        forms.add(word)
    elif word.endswith("s'"):
        word = word[:-1]
        forms.add(word)
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        forms.add(word[:-1])
        if word.endswith("es"):
            forms.add(word[:-2])
        if word.endswith("ies"):
            forms.add(word[:-3] + "y")
        if word.endswith("ves"):
            forms.add(word[:-3] + "f")
            forms.add(word[:-3] + "fe")
    return frozenset(forms)


@cache
def _spelling() -> dict[str, str]:
    return {row[0].lower(): row[1].lower() for row in read_rows("spelling.txt")}


@lru_cache(maxsize=65536)
def normalise_word(raw: str) -> str:
    """Lower-case, unify apostrophes, map spelling variants, repair a swapped pair of letters in key words."""
    word = raw.lower().replace("’", "'")
    spelling = _spelling()
    if word in spelling:
        return spelling[word]
    if len(word) >= 4 and word.isalpha() and word not in known_words():
        targets = correction_targets()
        for k in range(len(word) - 1):
            swapped = word[:k] + word[k + 1] + word[k] + word[k + 2 :]
            if swapped in targets:
                return swapped
    return word


@lru_cache(maxsize=65536)
def _word_tokens(raw: str) -> tuple[tuple[str, frozenset[str], bool], ...]:
    """Normalised word(s) for one raw token: a spelling entry such as "infront" may become two words."""
    norm = normalise_word(raw)
    cap = raw[:1].isupper()
    return tuple((part, forms_of(part), cap) for part in norm.split())


def tokenize(text: str) -> list[Token]:
    """Tokens of ``text`` with spans into it; a token that normalises to two words yields two tokens."""
    tokens: list[Token] = []
    append = tokens.append
    make = tuple.__new__  # builds the named tuple without its Python-level __new__ (hot loop)
    for match in _TOKEN_RE.finditer(text):
        raw = match.group()
        start, end = match.span()
        for norm, forms, cap in _word_tokens(raw):
            append(make(Token, (raw, start, end, norm, forms, cap)))
    return tokens


def split_words(phrase: str) -> tuple[str, ...]:
    """A lexicon phrase as normalised words, tokenized exactly like a query."""
    return tuple(token.norm for token in tokenize(phrase))


def words_in(rows: Iterable[Sequence[str]]) -> set[str]:
    """Every single word of the first field of ``rows`` (to build the typo-correction targets)."""
    out: set[str] = set()
    for row in rows:
        out.update(split_words(row[0]))
    return out


@cache
def correction_targets() -> frozenset[str]:
    """Words worth repairing when typed with two letters swapped ("rigth", "retreiver", "lfet").

    Only the words that change a verdict are targets: relation, number, negation and breed/species words.
    """
    targets: set[str] = set()
    targets |= set(NUMBER_WORDS)
    for name in ("relations.txt", "numbers.txt", "negators.txt", "comparators.txt", "frame_words.txt"):
        targets |= words_in(read_rows(name))
    for name in ("breeds.txt", "species.txt"):
        targets |= {word for word in words_in(read_rows(name)) if len(word) >= 5}
    targets -= words_in(read_rows("function_words.txt"))  # "form" must stay "form", not become "from"
    return frozenset(word for word in targets if word.isalpha() and len(word) >= 4)
