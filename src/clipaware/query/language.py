"""Which language a query is written in, so that English-only rules never give a silent verdict on others.

The detectors read English grammar; on "drei Katzen ohne Halsband" they would find nothing and call the query
fine for CLIP. This module says the query is German instead, from two kinds of evidence cheap enough to run
on every query (a set intersection and a character scan):

* script: Han, kana, Hangul, Cyrillic, Greek, Arabic, Hebrew, Devanagari and Thai letters name their language
  (Han without kana is read as Chinese);
* Latin-script languages: function words (articles, prepositions, conjunctions, negators, small numbers) that
  are not English words, from ``lexicons/foreign_words.txt``, plus letters English does not use ("ß", "ñ").

A few foreign words inside English ("Día de los Muertos altar", "Die Hard poster", "Le Mans race car") must stay
English: a query is called foreign only when at least two different foreign words are found, they outnumber
its English function words, and they make up at least a third of its words.
"""

from __future__ import annotations

import re
from functools import cache

from clipaware.query.lexicon import read_rows

ENGLISH = "en"
UNDETERMINED = "und"

# Script ranges, checked in order; a query whose letters are mostly in one of these is in that language.
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff]")
_SCRIPTS = (
    ("ko", re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")),
    ("zh", re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("ar", re.compile(r"[\u0600-\u06ff\u0750-\u077f]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
)
_LETTER = re.compile(r"[^\W\d_]")
_NON_LATIN = re.compile(r"[^\W\d_a-zA-Z\u00c0-\u024f]")
# Letters that English words never carry, each pointing to the languages that use it.
_TELLTALE = {"ß": "de", "ñ": "es", "¿": "es", "¡": "es", "ã": "pt", "õ": "pt", "œ": "fr", "ĳ": "nl"}

NAMES = {
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "zh": "Chinese",
    "ja": "Japanese",
    "ko": "Korean",
    "ru": "Russian",
    "el": "Greek",
    "ar": "Arabic",
    "he": "Hebrew",
    "hi": "Hindi",
    "th": "Thai",
}


@cache
def _foreign_words() -> dict[str, frozenset[str]]:
    """Word -> languages it is a function word of (``word | lang lang``)."""
    table: dict[str, set[str]] = {}
    for row in read_rows("foreign_words.txt"):
        for lang in row[1].split():
            table.setdefault(row[0].lower(), set()).add(lang)
    return {word: frozenset(langs) for word, langs in table.items()}


def detect_language(query: str, norms: frozenset[str] | set[str], english_words: frozenset[str]) -> str:
    """ISO 639-1 code of the query's language ("en" when it reads as English or cannot be told).

    ``norms`` are the query's normalised words; ``english_words`` the English function words, whose count
    weighs against a foreign reading.
    """
    if not query.isascii():
        letters = len(_LETTER.findall(query))
        if letters and len(_NON_LATIN.findall(query)) * 2 > letters:
            if _KANA.search(query):
                return "ja"
            best, best_count = UNDETERMINED, 0
            for code, pattern in _SCRIPTS:
                count = len(pattern.findall(query))
                if count > best_count:
                    best, best_count = code, count
            return best
    foreign = _foreign_words()
    votes: dict[str, int] = {}
    hits = 0
    for word in norms:
        langs = foreign.get(word)
        if langs:
            hits += 1
            for lang in langs:
                votes[lang] = votes.get(lang, 0) + 1
    if not query.isascii():
        for mark, lang in _TELLTALE.items():
            if mark in query:
                votes[lang] = votes.get(lang, 0) + 1
                hits += 1
    if hits < 2:
        return ENGLISH
    words = sum(1 for word in norms if word.isalpha())
    english = sum(1 for word in norms if word in english_words and word not in foreign)
    if hits <= english or hits * 3 < words:
        return ENGLISH  # a foreign name inside an English sentence ("Día de los Muertos altar with marigolds")
    return max(sorted(votes), key=lambda lang: votes[lang])


def not_english_note(language: str) -> str:
    """What a user reading a non-English verdict needs to know and do."""
    name = NAMES.get(language, "not English")
    said = f"written in {name}" if language in NAMES else "not in English"
    return (
        f"this query looks {said}; the checks read English only, so no verdict is given: translate the "
        "query to English to check it, or search with a multilingual model such as SigLIP 2 "
        "(google/siglip2-base-patch16-224)"
    )
