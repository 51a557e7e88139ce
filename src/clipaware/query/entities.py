"""Named things: who or which exactly (fine-grained identity), and the famous names CLIP already knows.

Fine-grained means telling apart look-alikes inside one category: a named person, a make and model, a breed
or species, one specific artwork, a typeface, or a question asking which of these it is. Landmarks, famous
brands and an artist's style are recorded as entities too, but they are not limitations: CLIP has seen them
countless times. They are matched first so that "Lincoln Memorial" is a place, not Abraham Lincoln.
"""

from __future__ import annotations

from dataclasses import dataclass

from clipaware.query.analysis import FINE_GRAINED_TYPES
from clipaware.query.doc import Doc

_POSSESSIVES = frozenset({"my", "our", "his", "her", "their", "your"})
_TITLE_KIN = frozenset({"uncle", "aunt", "auntie", "grandma", "grandpa", "granny", "nana", "cousin"})
_MODEL_SUFFIXES = frozenset({"pro", "max", "plus", "mini", "ultra", "lite", "se", "gt", "gti", "turbo", "s", "x"})
_NON_MODEL_WORDS = frozenset(
    {
        "logo",
        "logos",
        "store",
        "shop",
        "dealership",
        "factory",
        "headquarters",
        "sign",
        "museum",
        "ad",
        "advert",
    }
)
_FONT_CUES = frozenset({"font", "fonts", "typeface", "type", "lettering", "letters", "text"})
_SPECIES_SUFFIXES = (
    "-tailed",
    "-footed",
    "-billed",
    "-breasted",
    "-headed",
    "-winged",
    "-throated",
    "-crowned",
    "-bellied",
    "-necked",
    "-backed",
    "-capped",
    "-crested",
    "-rumped",
    "-shouldered",
)
_IDENTITY_WORDS = frozenset(
    {
        "breed",
        "species",
        "subspecies",
        "variety",
        "cultivar",
        "genus",
        "make",
        "model",
        "font",
        "typeface",
        "celebrity",
    }
)
_QUESTION_CUES = frozenset({"what", "which", "identify", "name", "tell", "what's", "determine", "recognize"})
_KIND_NOUNS = frozenset(
    {
        "flower",
        "tree",
        "plant",
        "car",
        "plane",
        "aircraft",
        "airplane",
        "font",
        "typeface",
        "insect",
        "animal",
    }
)
_STYLE_AFTER_PERSON = frozenset(
    {
        "style",
        "-style",
        "inspired",
        "impersonator",
        "impersonators",
        "lookalike",
        "costume",
        "costumes",
        "cosplay",
    }
)
_WHO_LEADS = frozenset({"me", "know", "guess", "tell", "find", "out", "and", "so"})
_PERSON_FOLLOWERS = frozenset({"at", "in", "on", "with", "and", "playing", "wearing", "holding", "'s"})


@dataclass(frozen=True)
class Found:
    """An entity found at tokens ``first..last``."""

    first: int
    last: int
    type: str

    @property
    def fine_grained(self) -> bool:
        return self.type in FINE_GRAINED_TYPES


def _sentence_start(doc: Doc, i: int) -> bool:
    return i == 0 or doc.tokens[i - 1].norm in (".", "!", "?", ":", "-", '"', "'", "(")


def _is_code(norm: str) -> bool:
    """A model code: a short token with a digit ("F-150", "A380", "S23", "911")."""
    return any(ch.isdigit() for ch in norm) and len(norm) <= 10


def find_entities(doc: Doc) -> list[Found]:
    """Every entity in the query, left to right, marking ``doc.entity`` and ``doc.protected`` as it goes."""
    tokens, lex = doc.tokens, doc.lex
    found: list[Found] = []
    n = len(tokens)
    i = 0
    while i < n:
        if doc.quoted[i] and not tokens[i].cap:
            i += 1
            continue
        starts = doc.starts[i]
        match = lex.entities.match(tokens, i) if "entities" in starts else None
        make = lex.makes.match(tokens, i) if "makes" in starts else None
        if match and (not make or match[0] >= make[0] or match[1][0] in ("landmark", "brand")):
            size, (kind, mode) = match
            entity = _accept_lexicon_entity(doc, i, size, kind, mode, found)
            if entity is not None:
                found.append(entity)
                _mark(doc, entity)
                i = entity.last + 1
                continue
        if make:
            entity = _make_model(doc, i, make[0])
            if entity is not None:
                found.append(entity)
                _mark(doc, entity)
                i = entity.last + 1
                continue
        token = tokens[i]
        entity = None
        if token.cap or not token.forms.isdisjoint(lex.kinship):
            entity = _person_pattern(doc, i)
        elif token.norm in lex.first_names or (token.norm.endswith("'s") and token.norm[:-2] in lex.first_names):
            entity = _lowercase_name(doc, i)
        if entity is None and ("-" in token.norm or token.norm in lex.species_modifiers):
            entity = _species_pattern(doc, i)
        if entity is None and i + 1 < n and (tokens[i + 1].forms & _BREED_GROUPS or token.cap):
            entity = _breed_pattern(doc, i)
        if entity is None and (
            not token.forms.isdisjoint(_IDENTITY_WORDS) or token.norm in ("who", "who's", "what", "which", "or")
        ):
            entity = _identify_pattern(doc, i)
        if entity is not None:
            found.append(entity)
            _mark(doc, entity)
            i = entity.last + 1
            continue
        i += 1
    return found


def _mark(doc: Doc, entity: Found) -> None:
    for k in range(entity.first, entity.last + 1):
        doc.entity[k] = entity.type
        if entity.type in ("landmark", "brand"):
            doc.protected[k] = True


def _accept_lexicon_entity(doc: Doc, i: int, size: int, kind: str, mode: str, found: list[Found]) -> Found | None:
    tokens = doc.tokens
    last = i + size - 1
    if mode == "caps" and not all(tokens[k].cap or tokens[k].norm in ("of", "the") for k in range(i, last + 1)):
        return None  # "a white house" is a house; "the White House" is the landmark
    if kind == "model":
        kind = "make_model"
        if mode == "make":
            # "Beetle", "Mustang", "Civic" are ordinary words too: need the make or a capital mid-query.
            after_make = bool(found) and found[-1].last == i - 1 and found[-1].type == "make"
            if not (after_make or (tokens[i].cap and not _sentence_start(doc, i))):
                return None
    elif kind == "artwork" and mode == "artist":
        after_artist = bool(found) and found[-1].type == "artist" and found[-1].last >= i - 2
        by_artist = last + 2 < len(tokens) and tokens[last + 1].norm == "by"
        title_cased = size >= 2 and all(tokens[k].cap for k in range(i, last + 1))  # "The Great Wave"
        if not (after_artist or by_artist or title_cased or (tokens[i].cap and not _sentence_start(doc, i))):
            return None
    elif kind == "font" and mode == "context":
        before = {tokens[k].norm for k in range(max(0, i - 2), i)}
        after = tokens[last + 1].norm if last + 1 < len(tokens) else ""
        if not (before & {"in", "font", "typeface"} or after in _FONT_CUES):
            return None
    elif (kind == "person" and size == 1 and not tokens[i].cap and tokens[i].norm in doc.lex.first_names) or (
        mode == "bare" and not _the_creature(doc, i, last)
    ):
        return None
    if kind == "person" and last + 1 < len(tokens) and tokens[last + 1].norm in _STYLE_AFTER_PERSON:
        return Found(i, last, "style")  # "Marilyn Monroe style dress", "Elvis impersonator": a look, not a face
    return Found(i, last, kind)


_NOT_THE_CREATURE = frozenset(
    {
        "print",
        "prints",
        "pattern",
        "patterned",
        "skin",
        "costume",
        "costumes",
        "onesie",
        "mask",
        "logo",
        "tattoo",
        "plush",
        "toy",
        "emblem",
        "mascot",
        "sticker",
        "hood",
        "wallpaper",
    }
)


def _the_creature(doc: Doc, i: int, last: int) -> bool:
    """Whether a bare species name means the living thing, not a brand, a print or a colour.

    "Jaguar dealership", "puma sneakers" (a make followed by a noun), "leopard print", "canary yellow" and a
    capitalised first name mid-sentence ("my friend Robin", left to the person rules) are not species.
    """
    tokens, lex = doc.tokens, doc.lex
    after = tokens[last + 1] if last + 1 < len(tokens) else None
    if after is not None:
        if after.norm in _NOT_THE_CREATURE or lex.attributes.get(after.norm) == "color":
            return False
        if "makes" in doc.starts[i] and (
            tokens[i].cap or after.norm in _NON_MODEL_WORDS or _is_code(after.norm) or doc.is_content(last + 1)
        ):
            return False
    elif "makes" in doc.starts[i] and tokens[i].cap:
        return False
    return not (tokens[i].cap and tokens[i].norm in lex.first_names and not _sentence_start(doc, i))


def _make_model(doc: Doc, i: int, size: int) -> Found | None:
    """A make followed by a model: a model name, a model code ("911", "F-150") or a capitalised name."""
    tokens, lex = doc.tokens, doc.lex
    j = i + size
    if j >= len(tokens) or doc.blocked(j):
        return None
    nxt = tokens[j]
    model = lex.entities.match(tokens, j)
    is_model = bool(model and model[1][0] == "model")
    if not is_model:
        year = nxt.norm.isdigit() and len(nxt.norm) == 4 and nxt.norm[:2] in ("19", "20")
        named = (
            nxt.cap
            and nxt.norm.isalpha()
            and nxt.norm not in lex.place_words
            and nxt.norm not in _NON_MODEL_WORDS
            and nxt.norm not in lex.function_words
            and tokens[i].cap
        )
        is_model = (_is_code(nxt.norm) and not year) or named
    if not is_model:
        # A make alone is a brand (recorded when written as a name, so "an apple" stays fruit).
        return Found(i, i + size - 1, "make") if tokens[i].cap else None
    last = j + (model[0] - 1 if model and model[1][0] == "model" else 0)
    while last + 1 < len(tokens) and last - i < 6:
        follow = tokens[last + 1]
        if follow.norm in _MODEL_SUFFIXES or (follow.cap and _is_code(follow.norm)):
            last += 1
        else:
            break
    return Found(i, last, "make_model")


def _person_pattern(doc: Doc, i: int) -> Found | None:
    """People named in the query but not in the celebrity list.

    "my son Jack" / "grandma Rose" (a kinship word and a name), "Grace Kelly" (a first name and a capitalised
    surname), "photos of Sarah" (a first name capitalised mid-sentence).
    """
    tokens, lex = doc.tokens, doc.lex
    token = tokens[i]
    n = len(tokens)
    if doc.protected[i] or doc.entity[i] is not None or doc.blocked(i):
        return None
    # Kinship word + name.
    if token.forms & lex.kinship and i + 1 < n:
        nxt = tokens[i + 1]
        has_possessive = i > 0 and tokens[i - 1].norm in _POSSESSIVES
        introduced = has_possessive or token.norm in _TITLE_KIN
        a_name = nxt.cap or (nxt.norm in lex.first_names and nxt.norm not in lex.common_names)
        plain = nxt.norm.isalpha() and nxt.norm not in lex.function_words and nxt.norm not in lex.place_words
        if introduced and a_name and plain:
            return Found(i, i + 1, "person")
    names = token.forms & lex.first_names
    if not names or not token.cap:
        return None
    # First name + capitalised surname.
    if i + 1 < n:
        nxt = tokens[i + 1]
        if (
            nxt.cap
            and nxt.norm.replace("'s", "").isalpha()
            and not nxt.forms & lex.place_words
            and nxt.norm not in lex.function_words
            and doc.entity[i + 1] is None
            and not (i > 0 and tokens[i - 1].cap and not _sentence_start(doc, i))
        ):
            return Found(i, i + 1, "person")
    # A capitalised first name on its own.
    if i > 0 and tokens[i - 1].cap and not _sentence_start(doc, i):
        return None  # part of a longer name ("Lake Victoria", "Union Jack")
    if i + 1 < n and tokens[i + 1].forms & lex.place_words:
        return None
    if token.norm in lex.common_names and "'s" not in token.norm:
        return None  # "Paris", "Rose", "Jordan" alone are more often a place or a thing
    if not _sentence_start(doc, i):
        return Found(i, i, "person")
    follower = tokens[i + 1].norm if i + 1 < n else ""
    if "'s" in token.norm or follower in _PERSON_FOLLOWERS or (i + 1 < n and doc.is_verbish(i + 1)):
        return Found(i, i, "person")
    return None


_MEDIA_BEFORE_NAME = frozenset(
    {
        "pic",
        "pics",
        "photo",
        "photos",
        "picture",
        "pictures",
        "video",
        "videos",
        "shot",
        "shots",
        "selfie",
        "selfies",
        "portrait",
        "portraits",
        "footage",
    }
)
_NAME_SLOT_BEFORE = frozenset({"of", "with", "and", "&", "w/"})
_NAME_SLOT_AFTER = frozenset(
    {"at", "in", "on", "with", "and", "&", "from", "during", "by", "near", "'s", ",", ".", "!", "?", "when", "after"}
)
# Names that are also times, weather and places: "pics of summer at the lake" names no one.
_NOT_A_NAME_HERE = frozenset(
    {
        "summer",
        "autumn",
        "winter",
        "spring",
        "dawn",
        "sky",
        "storm",
        "river",
        "may",
        "june",
        "april",
        "august",
        "christmas",
        "easter",
        "paris",
        "sydney",
        "chelsea",
        "georgia",
        "virginia",
        "carolina",
        "victoria",
        "austin",
    }
)


def _lowercase_name(doc: Doc, i: int) -> Found | None:
    """A first name typed in lower case on a phone: "pics of tom at the lake", "me and jake at the concert".

    Lower case takes away the capital that marks a name, so the place must: after "of"/"with"/"and" (or first
    in the query) and before a preposition, a verb or the end. A name that is also an everyday word ("rose",
    "mark", "will") needs the stronger place: right after "pics of", "selfie with" or "me and".
    """
    tokens, lex = doc.tokens, doc.lex
    n = len(tokens)
    norm = tokens[i].norm
    name = norm[:-2] if norm.endswith("'s") else norm
    if name in _NOT_A_NAME_HERE or doc.blocked(i) or doc.entity[i] is not None:
        return None
    nxt = tokens[i + 1].norm if i + 1 < n else ""
    if not (i + 1 >= n or nxt in _NAME_SLOT_AFTER or doc.is_verbish(i + 1) or name != norm):
        return None
    prev = tokens[i - 1].norm if i > 0 else ""
    before = tokens[i - 2].norm if i > 1 else ""
    strong = prev in _NAME_SLOT_BEFORE and (before in _MEDIA_BEFORE_NAME or before == "me")
    if name in lex.common_names or name in lex.attributes or name in lex.animals or name in lex.people:
        return Found(i, i, "person") if strong else None
    starts = i == 0 and (norm.endswith("'s") or (i + 1 < n and doc.is_verbish(i + 1)))  # "chloe's first day"
    if strong or prev in _NAME_SLOT_BEFORE or starts:
        return Found(i, i, "person")
    return None


_BREED_GROUPS = frozenset(
    {"terrier", "spaniel", "hound", "retriever", "setter", "collie", "sheepdog", "mastiff", "schnauzer"}
)
_BREED_KINDS = frozenset({"cat", "dog", "horse", "pony", "kitten", "puppy"})
_NOT_BREEDS = frozenset({"christmas", "halloween", "easter", "cheshire", "hello", "grumpy", "garfield", "nyan"})
_TOO_BROAD = frozenset({"animal", "pet", "bird", "fish", "dog", "cat", "horse", "puppy", "kitten", "cow", "dragon"})


def _breed_pattern(doc: Doc, i: int) -> Found | None:
    """Breeds the list lacks: "a Bombay cat", "a Newfoundland dog" (a capitalised name before cat/dog/horse)
    and "a Norfolk terrier", "a basset hound" (any word before a breed-group noun)."""
    tokens, lex = doc.tokens, doc.lex
    if i + 1 >= len(tokens) or doc.entity[i] is not None or doc.blocked(i):
        return None
    token, nxt = tokens[i], tokens[i + 1]
    plain_word = token.norm.isalpha() and not doc.stop[i] and token.norm not in lex.attributes
    if nxt.forms & _BREED_GROUPS and plain_word and not token.forms & (lex.people | lex.animals):
        return Found(i, i + 1, "breed")
    named = token.cap and token.norm.isalpha() and not _sentence_start(doc, i) and token.norm not in _NOT_BREEDS
    if named and nxt.forms & _BREED_KINDS and not doc.stop[i] and doc.entity[i + 1] is None:
        return Found(i, i + 1, "breed")
    return None


def _species_pattern(doc: Doc, i: int) -> Found | None:
    """Field-guide names: "red-tailed hawk", "blue-footed booby", "African elephant", "Japanese maple"."""
    tokens, lex = doc.tokens, doc.lex
    norm = tokens[i].norm
    if norm in lex.species_modifiers and i + 1 < len(tokens):
        kind = tokens[i + 1].forms
        if (kind & lex.animals or kind & lex.plant_kinds) and not kind & _TOO_BROAD:
            return Found(i, i + 1, "species")
        return None
    if i + 1 >= len(tokens) or not norm.endswith(_SPECIES_SUFFIXES):
        return None
    if doc.number_value(i) is not None or norm.split("-")[0] in lex.numbers or norm[0].isdigit():
        return None
    nxt = tokens[i + 1]
    if nxt.forms & lex.animals and not nxt.forms & {"dog", "cat", "horse", "puppy", "kitten", "cow", "pig"}:
        return Found(i, i + 1, "species")
    return None


def _identify_pattern(doc: Doc, i: int) -> Found | None:
    """Questions that ask which exact kind it is: "which dog breed is this", "identify the species",
    or who someone is: "who's the guy in the red hat?" (but not a relative clause, "a man who is")."""
    tokens = doc.tokens
    if tokens[i].norm in ("who", "who's"):
        prev = tokens[i - 1].norm if i > 0 else ""
        if i == 0 or prev in _WHO_LEADS or doc.is_punct(i - 1):
            nxt = tokens[i + 1].norm if i + 1 < len(tokens) else ""
            asks = nxt in ("is", "are", "was", "'s") or (i + 1 < len(tokens) and doc.is_verbish(i + 1))
            if tokens[i].norm == "who's" or asks:
                return Found(i, i + 1 if tokens[i].norm == "who" else i, "identify")
        return None
    if tokens[i].norm == "or" and _is_question(doc):
        # "is this a crow or a raven?", "monarch or viceroy": telling look-alike species apart.
        left, right = doc.np_before(i), doc.np_after(i + 1)
        if left is not None and right is not None:
            kinds = doc.lex.animals | doc.lex.plant_kinds
            a, b = tokens[left], tokens[right[1]]
            broad = a.forms & _TOO_BROAD and b.forms & _TOO_BROAD  # "a cat or a dog?" is not fine-grained
            if a.forms & kinds and b.forms & kinds and not a.forms & b.forms and not broad:
                return Found(left, right[1], "identify")
        return None
    if tokens[i].norm in ("what", "which"):
        # "what is this bird?", "which flower is that": naming the exact kind of a living thing or vehicle.
        window = range(i + 1, min(len(tokens), i + 5))
        if any(tokens[k].norm in ("this", "that", "these") for k in window):
            for k in window:
                kind = tokens[k].forms
                if kind & doc.lex.animals or kind & doc.lex.plant_kinds or kind & _KIND_NOUNS:
                    doing = k + 1 < len(tokens) and doc.is_verbish(k + 1)  # "what is this dog doing?"
                    return None if doing else Found(i, k, "identify")
        return None
    if not tokens[i].forms & _IDENTITY_WORDS:
        return None
    for k in range(i - 1, max(-1, i - 4), -1):
        if tokens[k].norm in _QUESTION_CUES:
            return Found(k, i, "identify")
        if doc.is_punct(k):
            break
    return None


def _is_question(doc: Doc) -> bool:
    tokens = doc.tokens
    return tokens[-1].norm == "?" or tokens[0].norm in ("is", "are", "which", "what", "was")
