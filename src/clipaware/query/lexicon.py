"""Word lists the analyzer reads, loaded once from the data files in ``lexicons/``.

The lists are plain text so that they can be reviewed and extended without touching code: one entry a line,
``#`` starts a comment, ``a | b`` separates fields. Multi-word entries are tokenized with the same tokenizer
as queries, so "Coca-Cola" or "w/o" match exactly as a user types them. Nothing is fetched at run time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

from clipaware.query.lexicons import read_rows, read_words
from clipaware.query.tokens import Token, split_words
from clipaware.words import NUMBER_WORDS


class PhraseIndex:
    """Longest-match lookup of multi-word phrases over a token list.

    Single words sit in a dict; longer phrases are keyed by their first two words, longest first. A token
    matches a phrase word when the word is one of the token's forms (its spelling-normalised text and
    singular guesses), so "golden retrievers" matches the entry "golden retriever" without a plural list.
    """

    def __init__(self, entries: Iterable[tuple[str, Any]]) -> None:
        singles: dict[str, Any] = {}
        by_pair: dict[tuple[str, str], list[tuple[tuple[str, ...], Any]]] = {}
        for phrase, value in entries:
            words = split_words(phrase)
            if len(words) == 1:
                singles.setdefault(words[0], value)
            elif words:
                by_pair.setdefault((words[0], words[1]), []).append((words, value))
        for options in by_pair.values():
            options.sort(key=lambda option: -len(option[0]))
        self._singles = singles
        self._by_pair = by_pair
        self.firsts = frozenset(singles) | frozenset(first for first, _ in by_pair)

    def match(self, tokens: Sequence[Token], i: int) -> tuple[int, Any] | None:
        """The longest phrase starting at token ``i`` as ``(number of tokens, value)``, or None.

        Multi-word phrases are keyed by their first two words, so a token costs a set test and, only when
        it can start a phrase, a few dictionary lookups.
        """
        forms = tokens[i].forms
        if forms.isdisjoint(self.firsts):
            return None  # the common case, decided in C
        best: tuple[int, Any] | None = None
        if i + 1 < len(tokens):
            n = len(tokens)
            next_forms = tokens[i + 1].forms
            by_pair = self._by_pair
            for form in forms:
                for second in next_forms:
                    for words, value in by_pair.get((form, second), ()):
                        size = len(words)
                        if best is not None and size <= best[0]:
                            break
                        if i + size > n:
                            continue
                        if size == 2 or all(words[k] in tokens[i + k].forms for k in range(2, size)):
                            best = (size, value)
                            break
        if best is None:
            for form in forms:
                if form in self._singles:
                    return (1, self._singles[form])
        return best

    def ends_at(self, tokens: Sequence[Token], end: int) -> tuple[int, Any] | None:
        """The longest phrase ending just before token ``end`` (for look-behind such as "at least 3")."""
        best: tuple[int, Any] | None = None
        for start in range(max(0, end - 4), end):
            found = self.match(tokens, start)
            if found and start + found[0] == end and (best is None or found[0] > best[0]):
                best = found
        return best


@dataclass(frozen=True)
class Lexicon:
    """Every word list, parsed into the shape its rule needs."""

    attributes: dict[str, str]
    attribute_compounds: frozenset[tuple[str, str]]
    media_nouns: frozenset[str]
    numbers: dict[str, int]
    collectives: dict[str, tuple[int, bool]]
    pair_items: frozenset[str]
    comparators: PhraseIndex
    units: frozenset[str]
    name_preceders: frozenset[str]
    relations: PhraseIndex
    frame_words: dict[str, str]
    frame_nouns: frozenset[str]
    picture_parts: frozenset[str]
    setting_nouns: frozenset[str]
    sky_nouns: frozenset[str]
    idioms: PhraseIndex
    negators: PhraseIndex
    sign_phrases: PhraseIndex
    sign_nouns: frozenset[str]
    non_words: frozenset[str]
    people: frozenset[str]
    animals: frozenset[str]
    role_verbs: PhraseIndex
    entities: PhraseIndex
    makes: PhraseIndex
    first_names: frozenset[str]
    common_names: frozenset[str]
    kinship: frozenset[str]
    place_words: frozenset[str]
    function_words: frozenset[str]
    ing_nouns: frozenset[str]
    species_modifiers: frozenset[str]
    ground_nouns: frozenset[str]
    plant_kinds: frozenset[str]
    _starters: dict[frozenset[str], frozenset[str]] = field(default_factory=dict)

    @cached_property
    def picture_words(self) -> frozenset[str]:
        """Every noun that names the picture or a part of it ("photo", "painting", "corner", "side"), not a
        thing in it: the routes never send these to a detector."""
        return self.frame_nouns | self.media_nouns | frozenset(self.frame_words) | self.picture_parts

    def starters(self, forms: frozenset[str]) -> frozenset[str]:
        """Names of the phrase indexes with an entry starting with one of ``forms`` (memoised per word).

        Rules test this set before calling ``match``, so most tokens cost one dictionary lookup.
        """
        found = self._starters.get(forms)
        if found is None:
            found = frozenset(name for name in _INDEXES if not forms.isdisjoint(getattr(self, name).firsts))
            if len(self._starters) < 200_000:
                self._starters[forms] = found
        return found


_INDEXES = (
    "idioms",
    "sign_phrases",
    "relations",
    "negators",
    "role_verbs",
    "entities",
    "makes",
    "comparators",
)


_BARE_SPECIES_LISTS = ("birds.txt", "wild_cats.txt", "houseplants.txt", "garden_flowers.txt")


def _role_verb_entries() -> list[tuple[str, str]]:
    """Every inflection of every role verb, mapped to its base form (regular forms are generated)."""
    entries: list[tuple[str, str]] = []
    for row in read_rows("role_verbs.txt"):
        base = row[0].lower()
        words = base.split()
        head, rest = words[0], " ".join(words[1:])
        forms = {base}
        if len(row) > 1:
            forms.update(form.strip() for form in row[1].lower().split(",") if form.strip())
        else:
            stem = head[:-1] if head.endswith("e") else head
            for suffix_form in (
                head + ("es" if head.endswith(("sh", "ch", "ss", "x")) else "s"),
                stem + "ed",
                stem + "ing",
            ):
                forms.add(f"{suffix_form} {rest}".strip())
        entries.extend((form, base) for form in forms)
    return entries


@cache
def get_lexicon() -> Lexicon:
    """Load every list once per process (about a millisecond); later calls return the same object."""
    entities: list[tuple[str, tuple[str, str]]] = []
    for row in read_rows("landmarks.txt"):
        entities.append((row[0], ("landmark", row[1] if len(row) > 1 else "protect")))
    for row in read_rows("brands.txt"):
        entities.append((row[0], ("brand", "protect")))
    for row in read_rows("artists.txt"):
        entities.append((row[0], ("artist", "style")))
    for row in read_rows("artworks.txt"):
        entities.append((row[0], ("artwork", row[1] if len(row) > 1 else "free")))
    for row in read_rows("celebrities.txt"):
        entities.append((row[0], ("person", "free")))
    for row in read_rows("breeds.txt"):
        entities.append((row[0], ("breed", "free")))
    for row in read_rows("species.txt"):
        entities.append((row[0], ("species", "free")))
    for name in _BARE_SPECIES_LISTS:
        # A bare common name ("wren", "cheetah", "monstera"): a species unless context makes it a brand or a
        # print ("Jaguar dealership", "leopard print"), checked in entities.py.
        entities.extend((row[0], ("species", "bare")) for row in read_rows(name))
    for row in read_rows("fonts.txt"):
        entities.append((row[0], ("font", row[1] if len(row) > 1 else "free")))
    for row in read_rows("identify.txt"):
        entities.append((row[0], ("identify", "free")))
    for row in read_rows("models.txt"):
        entities.append((row[0], ("model", row[1] if len(row) > 1 else "free")))

    attributes = {row[0].lower(): row[1] for row in read_rows("attributes.txt")}
    compounds = frozenset(
        (words[0], words[-1]) for words in (split_words(row[0]) for row in read_rows("color_compounds.txt"))
    )
    numbers = {word: value for value, word in enumerate(NUMBER_WORDS)}
    numbers.update({row[0].lower(): int(row[1]) for row in read_rows("numbers.txt")})
    collectives = {row[0].lower(): (int(row[1]), row[2] == "yes") for row in read_rows("collectives.txt")}
    function_words = read_words("function_words.txt")
    lexicon = Lexicon(
        attributes=attributes,
        attribute_compounds=compounds,
        media_nouns=read_words("media_nouns.txt"),
        numbers=numbers,
        collectives=collectives,
        pair_items=read_words("pair_items.txt"),
        comparators=PhraseIndex((row[0], row[1]) for row in read_rows("comparators.txt")),
        units=read_words("units.txt"),
        name_preceders=read_words("name_preceders.txt"),
        relations=PhraseIndex((row[0], (row[1], row[2])) for row in read_rows("relations.txt")),
        frame_words={row[0].lower(): row[1] for row in read_rows("frame_words.txt")},
        frame_nouns=read_words("frame_nouns.txt"),
        picture_parts=read_words("picture_parts.txt"),
        setting_nouns=read_words("setting_nouns.txt"),
        sky_nouns=read_words("sky_nouns.txt"),
        idioms=PhraseIndex((row[0], "idiom") for row in read_rows("idioms.txt")),
        negators=PhraseIndex((row[0], row[1]) for row in read_rows("negators.txt")),
        sign_phrases=PhraseIndex((row[0], "sign") for row in read_rows("sign_phrases.txt")),
        sign_nouns=read_words("sign_nouns.txt"),
        non_words=read_words("non_words.txt"),
        people=read_words("people.txt"),
        animals=read_words("animals.txt"),
        role_verbs=PhraseIndex(_role_verb_entries()),
        entities=PhraseIndex(entities),
        makes=PhraseIndex((row[0], "make") for row in read_rows("makes.txt")),
        first_names=read_words("first_names.txt"),
        common_names=read_words("common_names.txt"),
        kinship=read_words("kinship.txt"),
        place_words=read_words("place_words.txt"),
        function_words=function_words,
        ing_nouns=read_words("ing_nouns.txt"),
        species_modifiers=read_words("species_modifiers.txt"),
        ground_nouns=read_words("ground_nouns.txt"),
        plant_kinds=read_words("plant_kinds.txt"),
    )
    return lexicon
