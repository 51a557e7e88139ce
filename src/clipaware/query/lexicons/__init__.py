"""The word lists the query analyzer reads (one ``.txt`` file each), and their reader.

The reader lives with the data, below both the tokenizer and :mod:`clipaware.query.lexicon`, so that the
tokenizer (which needs the spelling list) and the lexicon (which tokenizes its phrases) do not import each other.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from clipaware.words import NUMBER_WORDS

_PACKAGE = __name__


def read_rows(name: str) -> list[list[str]]:
    """Rows of a lexicon file: comment and blank lines dropped, fields split on ``|`` and stripped."""
    text = resources.files(_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    rows: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        rows.append([field.strip() for field in line.split("|")])
    return rows


def read_words(name: str) -> frozenset[str]:
    """The first field of every row, lower-cased: a set for membership tests."""
    return frozenset(row[0].lower() for row in read_rows(name))


# Lists of other languages' words: knowing them must not stop a typo repair or an unknown-word warning.
_NOT_ENGLISH_LISTS = frozenset({"foreign_words.txt"})


@cache
def known_words() -> frozenset[str]:
    """Every word in any list: a typo repair never rewrites one of these ("there" is not "three")."""
    known: set[str] = set()
    for entry in resources.files(_PACKAGE).iterdir():
        if entry.name.endswith(".txt") and entry.name not in _NOT_ENGLISH_LISTS:
            for row in read_rows(entry.name):
                for cell in row:
                    known.update(cell.lower().split())
    known.update(NUMBER_WORDS)
    return frozenset(known)
