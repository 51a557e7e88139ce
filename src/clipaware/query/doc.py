"""A tokenized query plus the shared marks every limitation rule reads.

Before any rule runs, ``Doc`` marks the tokens that must not trigger anything (idioms such as "under
construction", sign texts such as "no parking", quoted text) and knows how to find noun phrases around a
position. Rules then stay short: they look for their cue and ask the doc for the nouns next to it.
All scans look a bounded number of tokens around a position, so a 10,000-character query stays linear.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from clipaware.query.lexicon import Lexicon
from clipaware.query.tokens import Token

PUNCT_STOPS = frozenset({",", ";", ".", "!", "?", ":", "(", ")", "[", "]", "—", "–", "/", "|"})
QUOTES = frozenset({'"', "'", "“", "”", "‘", "’", "`", "«", "»"})
# Words that sit between a subject and a following relation or verb without ending the phrase.
_SKIPPABLE_BEFORE = frozenset(
    {
        "is",
        "are",
        "was",
        "were",
        "be",
        "being",
        "been",
        "that",
        "which",
        "who",
        "directly",
        "right",
        "just",
        "slightly",
        "far",
        "immediately",
        "somewhere",
        "still",
        "all",
        "both",
        "up",
        "down",
        "there",
        "together",
        "neatly",
        "partly",
        "half",
        "placed",
        "sat",
        "stood",
        "lay",
        "out",
        "low",
        "high",
        "sit",
        "stand",
        "hang",
        "lie",
        "float",
        "lean",
        "rest",
        "stay",
        "appear",
        "must",
        "should",
        "could",
        "would",
        "will",
        "might",
        "can't",
        "shouldn't",
        "not",
        "never",
        "isn't",
        "aren't",
        "wasn't",
    }
)
# Pronouns that can be the subject of a relation ("no one standing in front of it").
_PRONOUN_SUBJECTS = frozenset({"one", "nobody", "none", "someone", "anyone", "everyone", "something", "anything"})
_DETERMINERS = frozenset(
    {
        "a",
        "an",
        "the",
        "this",
        "that",
        "these",
        "those",
        "my",
        "your",
        "his",
        "her",
        "its",
        "our",
        "their",
        "some",
        "any",
        "each",
        "every",
        "another",
        "one's",
        "exactly",
        "only",
        "just",
        "single",
        "all",
        "both",
        "other",
        "same",
    }
)
_PRONOUN_OBJECTS = frozenset({"it", "them", "him", "her", "me", "us", "you", "one", "ones"})


_VISUAL_ATTRIBUTES = frozenset({"color", "size", "material", "pattern", "shape"})


@dataclass
class Doc:
    """Tokens of one query and per-token marks; rules add entity spans as they find them."""

    text: str
    tokens: list[Token]
    lex: Lexicon
    idiom: list[bool] = field(default_factory=list)
    sign: list[bool] = field(default_factory=list)
    quoted: list[bool] = field(default_factory=list)
    protected: list[bool] = field(default_factory=list)
    entity: list[str | None] = field(default_factory=list)
    stop: list[bool] = field(default_factory=list)
    numbers: list[int | None] = field(default_factory=list)
    relation_at: list[tuple[int, tuple[str, str]] | None] = field(default_factory=list)
    block: list[bool] = field(default_factory=list)
    starts: list[frozenset[str]] = field(default_factory=list)
    content: list[bool] = field(default_factory=list)
    punct: list[bool] = field(default_factory=list)
    verbish: list[bool] = field(default_factory=list)
    norm_set: frozenset[str] = frozenset()
    present: frozenset[str] = frozenset()

    @classmethod
    def build(cls, text: str, tokens: list[Token], lex: Lexicon) -> Doc:
        n = len(tokens)
        doc = cls(text, tokens, lex, [False] * n, [False] * n, [False] * n, [False] * n, [None] * n)
        cache = _INFO_CACHE.get(id(lex))
        if cache is None:
            cache = _INFO_CACHE.setdefault(id(lex), {})
        infos = [cache.get(token.norm) or _word_info(lex, token, cache) for token in tokens]
        columns = [list(column) for column in zip(*infos, strict=True)] if infos else [[] for _ in range(6)]
        starts, doc.punct, doc.numbers, stops, doc.verbish, alphas = columns
        doc.starts = starts
        # Which words and phrase indexes occur at all: a rule with no cue in the query skips its scan.
        doc.norm_set = frozenset([token.norm for token in tokens])
        doc.present = frozenset().union(*starts)
        doc.relation_at = [lex.relations.match(tokens, i) if "relations" in starts[i] else None for i in range(n)]
        if "relations" in doc.present:
            doc.stop = [
                stop or (doc.relation_at[i] is not None and tokens[i].norm not in lex.attributes)
                for i, stop in enumerate(stops)
            ]
        else:
            doc.stop = stops
        doc.content = [not stop and alpha for stop, alpha in zip(doc.stop, alphas, strict=True)]
        marked = False
        if "idioms" in doc.present or "sign_phrases" in doc.present:
            doc._mark_phrases()
            marked = True
        if any(mark in text for mark in QUOTES):
            doc._mark_quotes()
            marked = True
        if marked:
            doc.block = [a or b or c for a, b, c in zip(doc.idiom, doc.sign, doc.quoted, strict=True)]
        else:
            doc.block = doc.idiom  # nothing marked: all False (shared list, never written after build)
        return doc

    # --- marks ---
    def _mark_phrases(self) -> None:
        tokens, lex = self.tokens, self.lex
        i = 0
        while i < len(tokens):
            starts = self.starts[i]
            if "idioms" not in starts and "sign_phrases" not in starts:
                i += 1
                continue
            found = lex.idioms.match(tokens, i)
            if found:
                for k in range(i, i + found[0]):
                    self.idiom[k] = True
                i += found[0]
                continue
            found = lex.sign_phrases.match(tokens, i)
            if found:
                for k in range(i, i + found[0]):
                    self.sign[k] = True
                i += found[0]
                continue
            i += 1

    def _mark_quotes(self) -> None:
        # Text between a pair of quote marks is a name or a sign's wording ("'No Vacancy' sign").
        # An opening mark follows a space (so the apostrophe of "kids' toys" opens nothing).
        open_at: int | None = None
        text = self.text
        for i, token in enumerate(self.tokens):
            if token.text in QUOTES and token.end - token.start == 1:
                if open_at is None:
                    if token.start == 0 or text[token.start - 1].isspace():
                        open_at = i
                elif i - open_at <= 8:
                    for k in range(open_at + 1, i):
                        self.quoted[k] = True
                    open_at = None
                else:
                    open_at = i

    def span_text(self, first: int, last: int) -> str:
        """The exact query text from token ``first`` to token ``last`` inclusive."""
        return self.text[self.tokens[first].start : self.tokens[last].end]

    def blocked(self, i: int) -> bool:
        """Inside an idiom, a sign's text or quotes: no rule may fire here."""
        return self.block[i]

    # --- word classes ---
    def norm(self, i: int) -> str:
        return self.tokens[i].norm

    def is_punct(self, i: int) -> bool:
        return self.punct[i]

    def number_value(self, i: int) -> int | None:
        """The value of a plain number token ("3", "three", "twenty-five"), else None."""
        return self.numbers[i]

    def is_verbish(self, i: int) -> bool:
        """A participle or finite verb that separates noun phrases ("standing", "parked")."""
        return self.verbish[i]

    def is_stop(self, i: int) -> bool:
        """Ends a noun phrase: punctuation, function words, numbers, relation/negation cues, verbs."""
        return self.stop[i]

    def is_content(self, i: int) -> bool:
        """A word that can head a noun phrase."""
        return self.content[i]

    def is_animate(self, i: int) -> bool:
        """A person, animal, named person or breed: something that can do an action to another."""
        if self.entity[i] in ("person", "breed", "species"):
            return True
        forms = self.tokens[i].forms
        return bool(forms & self.lex.people or forms & self.lex.animals)

    # --- noun phrases ---
    def np_after(self, i: int, limit: int = 6) -> tuple[int, int] | None:
        """``(first, head)`` of the noun phrase starting at or after token ``i``; None if no noun follows.

        Skips determiners, numbers and adjectives; the head is the last content word before a stop, so
        "a yellow raincoat holding" gives "raincoat" and "two mountain bikes" gives "bikes".
        """
        n = len(self.tokens)
        if i + 1 < n and self.tokens[i].norm in ("each", "one") and self.tokens[i + 1].norm in ("other", "another"):
            return (i, i + 1)  # "stacked on top of each other"
        j = i
        first: int | None = None
        while j < n and j < i + limit and (self.tokens[j].norm in _DETERMINERS or self.number_value(j) is not None):
            j += 1
        if j + 1 < n and j > i and self.verbish[j] and self.content[j + 1] and self.tokens[j - 1].norm in _DETERMINERS:
            j += 1  # "a sleeping dog", "the parked car": a participle used as an adjective
        head: int | None = None
        while j < n and j < i + limit + 4:
            if self.entity[j] is not None or self.protected[j] or self.is_content(j):
                if first is None:
                    first = j
                head = j
                j += 1
                continue
            break
        if head is None:
            if j < n and self.tokens[j].norm in _PRONOUN_OBJECTS:
                return (j, j)
            return None
        return (first if first is not None else head, head)

    def described(self, first: int, head: int) -> bool:
        """Whether the noun phrase carries a visual attribute ("a *grey* square", "two *red* stars").

        A described noun is a depicted object: "above a grey square" relates two objects, while "above the
        square" places something in a town square.
        """
        return any(self.lex.attributes.get(self.tokens[k].norm) in _VISUAL_ATTRIBUTES for k in range(first, head))

    def np_before(self, i: int, limit: int = 7) -> int | None:
        """Head of the noun phrase just before token ``i`` (skipping verbs like "parked" and "is")."""
        j = i - 1
        steps = 0
        while j >= 0 and steps < limit:
            norm = self.tokens[j].norm
            if self.idiom[j]:
                j -= 1
                continue
            if norm == "," and steps < limit - 1:
                j -= 1  # an apposition: "a Cessna 172, not a Piper Cub, parked in front of a hangar"
                steps += 1
                continue
            if self.is_punct(j) and norm != "-":
                return None
            if norm in _PRONOUN_SUBJECTS or (norm == "can" and j > 0 and not self.stop[j - 1]):
                return j  # "no one standing in front", "a Coca-Cola can next to"
            if norm in _SKIPPABLE_BEFORE or (self.is_verbish(j) and self.entity[j] is None):
                j -= 1
                steps += 1
                continue
            if self.entity[j] is not None or self.protected[j] or self.is_content(j):
                return j
            return None
        return None


_VERB_FORMS = frozenset({"sits", "stands", "lies", "hangs", "lay", "sat", "stood", "hung", "leans", "floats"})
_NEGATION_STOPS = frozenset({"not", "no", "nor", "without", "w/o"})
WordInfo = tuple[frozenset[str], bool, "int | None", bool, bool, bool]
_INFO_CACHE: dict[int, dict[str, WordInfo]] = {}


def _number_of(norm: str, numbers: dict[str, int]) -> int | None:
    if norm.isdecimal():  # not isdigit(): "²", "①", "⓸" are digits that int() refuses
        return int(norm) if len(norm) <= 9 else None
    if norm in numbers:
        return numbers[norm]
    if "-" in norm:
        parts = norm.split("-")
        if len(parts) == 2 and all(part in numbers for part in parts):
            return numbers[parts[0]] + numbers[parts[1]]
    return None


def _word_info(lex: Lexicon, token: Token, cache: dict[str, WordInfo]) -> WordInfo:
    """Context-free facts about one word, memoised: (index starters, punct, number, stop, verbish, alpha).

    Most words of most queries repeat ("a", "the", "dog"), so this turns per-token rule checks into one
    dictionary lookup.
    """
    norm = token.norm
    punct = norm in PUNCT_STOPS or not any(ch.isalnum() for ch in norm)  # quote marks included
    number = _number_of(norm, lex.numbers)
    if norm in lex.attributes or norm in lex.ing_nouns or "-" in norm:
        verbish = False
    elif len(norm) > 4 and (
        norm.endswith("ing") or (norm.endswith("ed") and norm not in lex.animals and norm not in lex.people)
    ):
        verbish = True
    else:
        verbish = norm in _VERB_FORMS
    stop = (
        punct
        or norm in lex.function_words
        or norm in _NEGATION_STOPS
        or number is not None
        or ("'" in norm and norm.endswith("n't"))
        or verbish
    )
    alpha = any(ch.isalpha() for ch in norm)
    info = (lex.starters(token.forms), punct, number, stop, verbish, alpha)
    if len(cache) < 200_000:
        cache[norm] = info
    return info
