"""Compositional: attributes or roles bound to different objects, so swapping them changes the meaning.

CLIP embeds "a red car and a blue truck" close to "a blue car and a red truck": it keeps the words, not
which word belongs to which object. Two cues:

* attribute binding: two or more different objects each carry their own attribute (colour, size, material,
  shape, age, pattern, state): "a wooden table with metal chairs", "a tall woman and a short man".
  One object with several attributes ("a fluffy white dog", "red and white striped lighthouse") is fine,
  and so are attributes on the picture itself ("black and white photo") or kind names ("red wine").
* role order: an asymmetric action between two animate things, "a dog chasing a cat", "a boy giving a
  girl flowers". An action on a thing ("a kid kicking a ball") cannot be swapped, so it is fine.

This module also produces the parse's object list (every noun phrase with its attributes).
"""

from __future__ import annotations

from clipaware.query.analysis import Action, Attribute, ObjectMention
from clipaware.query.doc import Doc
from clipaware.words import singular

_APPEARANCE_SUFFIXES = (
    "-haired",
    "-eyed",
    "-skinned",
    "-bearded",
    "-colored",
    "-sleeved",
    "-legged",
    "-faced",
    "-shaped",
    "-sized",
)
_CHAIN_JOINERS = frozenset({"and", ",", "&", "-"})
_BINDING_EXEMPT_SETTINGS = frozenset({"house", "room", "kitchen", "bedroom", "office", "building"})
# Surroundings that colour the whole scene ("blue sky", "green water") rather than bind to an object.
_OPEN_SKY = frozenset(
    {
        "sky",
        "skies",
        "water",
        "sea",
        "ocean",
        "surface",
        "weather",
        "horizon",
        "night",
        "snow",
        "rain",
        "waves",
    }
)
POSSESSION_CUES = frozenset({"with", "holding", "carrying", "wearing", "in"})
_COMPARATIVES = frozenset(
    {
        "bigger",
        "smaller",
        "larger",
        "taller",
        "shorter",
        "older",
        "younger",
        "longer",
        "wider",
        "narrower",
        "thicker",
        "thinner",
        "fatter",
        "heavier",
        "darker",
        "brighter",
        "faster",
        "slower",
    }
)
_RECIPROCAL = frozenset({"other", "another", "itself", "himself", "herself", "themselves"})


def attribute_of(doc: Doc, i: int) -> Attribute | None:
    """The attribute a token expresses ("red", "wooden", "green-painted", "light-blue"), if any."""
    if doc.entity[i] is not None or doc.protected[i] or doc.blocked(i):
        return None
    norm = doc.tokens[i].norm
    cached = _ATTRIBUTE_CACHE.get(norm, _UNSEEN)
    if cached is _UNSEEN:
        cached = _word_attribute(doc.lex.attributes, norm)
        if len(_ATTRIBUTE_CACHE) < 100_000:
            _ATTRIBUTE_CACHE[norm] = cached
    return cached


_UNSEEN = object()
_ATTRIBUTE_CACHE: dict[str, Attribute | None] = {}


def _word_attribute(attributes: dict[str, str], norm: str) -> Attribute | None:
    """The attribute one word carries out of context (memoised by ``attribute_of``)."""
    if norm in attributes:
        return Attribute(norm, attributes[norm])
    if "-" in norm:
        parts = norm.split("-")
        for part in (parts[-1], parts[0]):
            if attributes.get(part) == "color":
                return Attribute(norm, "color")
    if norm.endswith(_APPEARANCE_SUFFIXES):
        return Attribute(norm, "appearance")  # "dark-haired", "blue-eyed", "long-sleeved"
    if norm.endswith("ish") and attributes.get(norm[:-3]) == "color":
        return Attribute(norm, "color")
    return None


def find_objects(doc: Doc) -> list[ObjectMention]:
    """Noun phrases left to right, with the attributes written before their head noun.

    Also attaches "in red" style colours to the noun before them ("a woman in red and a man in blue").
    """
    tokens, lex = doc.tokens, doc.lex
    n = len(tokens)
    mentions: list[ObjectMention] = []
    i = 0
    while i < n:
        startable = doc.is_content(i) or doc.entity[i] is not None or doc.protected[i]
        if not startable:
            i += 1
            continue
        first = i
        attrs: list[Attribute] = []
        head = i
        last_attr = -1
        j = i
        while j < n:
            attribute = attribute_of(doc, j)
            if attribute is not None and attrs and last_attr != j - 1:
                break  # "big dog small cat": an attribute after a noun starts the next object
            if (
                attribute is not None
                and j + 1 < n
                and (doc.is_content(j + 1) or doc.entity[j + 1] is not None or tokens[j + 1].norm in _CHAIN_JOINERS)
            ):
                attrs.append(attribute)
                head = last_attr = j
                j += 1
                continue
            if tokens[j].norm in _CHAIN_JOINERS and last_attr == j - 1 and j + 1 < n:
                if attribute_of(doc, j + 1) is not None:
                    j += 1
                    continue
                break
            if doc.is_content(j) or doc.entity[j] is not None or doc.protected[j]:
                head = j
                j += 1
                continue
            break
        if j < n and tokens[j].norm in ("one", "ones"):
            attribute = attribute_of(doc, head)
            if attribute is not None:  # "green ones": the attribute belongs to a noun said earlier
                if not attrs:
                    attrs.append(attribute)
                head = j
                j += 1
        head_token = tokens[head]
        head_attr = attribute_of(doc, head)
        if head == first and head_attr is not None:
            # A bare attribute: "in red" binds to the noun before it; "isn't red" is a predicate.
            if first > 0 and tokens[first - 1].norm == "in" and mentions and head_attr.kind == "color":
                previous = mentions[-1]
                mentions[-1] = ObjectMention(
                    previous.noun,
                    previous.text,
                    (*previous.attributes, head_attr),
                    previous.start,
                    previous.end,
                )
            i = j if j > i else i + 1
            continue
        kept = tuple(
            attr
            for attr in attrs
            if attr.value != head_token.norm and (attr.value, head_token.norm) not in lex.attribute_compounds
        )
        noun = singular(head_token.norm)
        mentions.append(ObjectMention(noun, doc.span_text(first, head), kept, tokens[first].start, tokens[head].end))
        i = max(j, i + 1)
    return mentions


def binding_evidence(doc: Doc, mentions: list[ObjectMention]) -> list[ObjectMention]:
    """The mentions that make attribute binding matter: two or more objects with differing attributes."""
    lex = doc.lex
    bound = [
        mention
        for mention in mentions
        if mention.attributes
        and mention.noun not in lex.media_nouns
        and mention.noun not in _OPEN_SKY
        and not (
            mention.noun in lex.setting_nouns
            and mention.noun not in _BINDING_EXEMPT_SETTINGS
            and not any(attr.kind == "color" for attr in mention.attributes)
        )
    ]
    if len(bound) < 2:
        return []
    signatures = {tuple(sorted(attr.value for attr in mention.attributes)) for mention in bound}
    if len(signatures) < 2:
        return []
    return bound


def find_actions(doc: Doc) -> list[tuple[Action, int, int]]:
    """Role-order actions between two animate things, with their token spans."""
    if "role_verbs" not in doc.present:
        return []
    tokens, lex = doc.tokens, doc.lex
    n = len(tokens)
    actions: list[tuple[Action, int, int]] = []
    i = 0
    while i < n:
        match = lex.role_verbs.match(tokens, i) if "role_verbs" in doc.starts[i] and not doc.blocked(i) else None
        if not match:
            i += 1
            continue
        size, base = match
        verb_last = i + size - 1
        form = tokens[verb_last].norm
        passive = verb_last + 1 < n and tokens[verb_last + 1].norm == "by" and not form.endswith("ing")
        subject = _animate_before(doc, i)
        if not (form.endswith("ing") or passive or (subject is not None and subject == i - 1)):
            i += 1
            continue
        start_obj = verb_last + (2 if passive else 1)
        obj = doc.np_after(start_obj, limit=4) if start_obj < n else None
        if subject is None or obj is None:
            i += 1
            continue
        obj_head = obj[0] if doc.is_animate(obj[0]) else obj[1]
        if tokens[obj_head].norm in _RECIPROCAL or not doc.is_animate(obj_head):
            i += 1
            continue
        doer, receiver = (obj_head, subject) if passive else (subject, obj_head)
        action = Action(tokens[doer].norm, base, tokens[receiver].norm, doc.span_text(subject, obj[1]))
        actions.append((action, subject, obj[1]))
        i = verb_last + 1
    return actions


def _animate_before(doc: Doc, i: int, limit: int = 8) -> int | None:
    """The nearest animate noun before the verb in the same clause ("a boy in a green hoodie pushing")."""
    j = i - 1
    while j >= 0 and i - j <= limit:
        if doc.is_punct(j) and doc.tokens[j].norm != "-":
            return None
        if doc.is_animate(j) and (doc.is_content(j) or doc.entity[j] is not None):
            return j
        j -= 1
    return None


def find_comparisons(doc: Doc) -> list[tuple[Action, int, int]]:
    """ "the cat is bigger than the dog": a comparison binds a property to each side, so order matters."""
    if "than" not in doc.norm_set:
        return []
    tokens = doc.tokens
    found: list[tuple[Action, int, int]] = []
    for i in range(1, len(tokens) - 2):
        if tokens[i].norm not in _COMPARATIVES or tokens[i + 1].norm != "than" or doc.blocked(i):
            continue
        subject = doc.np_before(i)
        obj = doc.np_after(i + 2)
        if subject is None or obj is None or doc.number_value(i + 2) is not None:
            continue  # "older than 5" is an age, not two objects
        action = Action(tokens[subject].norm, f"{tokens[i].norm} than", tokens[obj[1]].norm, "")
        text = doc.span_text(subject, obj[1])
        found.append((Action(action.subject, action.verb, action.object, text), subject, obj[1]))
    return found


def find_possessions(doc: Doc) -> list[tuple[Action, int, int]]:
    """ "a man with a guitar and a woman with a violin": things bound to different people or animals.

    Counts only when two different animate owners each hold a different thing; one owner with several
    things ("a woman with a cat and a dog") binds nothing that could be swapped.
    """
    if not doc.norm_set & POSSESSION_CUES:
        return []
    tokens = doc.tokens
    pairs: list[tuple[Action, int, int]] = []
    for i in range(1, len(tokens) - 1):
        if tokens[i].norm not in POSSESSION_CUES or doc.blocked(i):
            continue
        owner = doc.np_before(i)
        held = doc.np_after(i + 1)
        if owner is None or held is None or not doc.is_animate(owner) or doc.is_animate(held[1]):
            continue
        if tokens[held[1]].forms & doc.lex.setting_nouns:
            continue  # "a woman in a kitchen": a place, not something she holds
        text = doc.span_text(owner, held[1])
        pairs.append((Action(tokens[owner].norm, tokens[i].norm, tokens[held[1]].norm, text), owner, held[1]))
    owners = {action.subject for action, _, _ in pairs}
    things = {action.object for action, _, _ in pairs}
    if len(owners) >= 2 and len(things) >= 2:
        return pairs
    return []
