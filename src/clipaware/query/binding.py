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
from clipaware.query.tokens import Token
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


_TRAIT_SUFFIXES = ("y", "ful", "ous", "ive", "less", "ish", "ed", "ing", "ic", "ent", "ant")
_SLOT_BEFORE = frozenset({"a", "an", "the", "and", ",", "one", "his", "her", "their", "my", "our", "your", "its"})


def _trait_attribute(norm: str) -> Attribute:
    return Attribute(norm, "mood")


def _trait_at(doc: Doc, j: int) -> bool:
    """An adjective found by its shape and place: "a *scowling* man", "a *sleepy* kitten", "a *bored* teenager".

    Between a determiner and a person or animal ("a scowling man", "a grumpy old man"), a word ending like an
    adjective or participle (-y, -ful, -ous, -ive, -less, -ish, -ed, -ing) that no list knows as a noun
    describes that one creature, so it can be bound to it like a colour.
    """
    tokens = doc.tokens
    n = len(tokens)
    if j == 0 or j + 1 >= n or tokens[j - 1].norm not in _SLOT_BEFORE:
        return False
    token = tokens[j]
    shaped = _TRAIT_SHAPE.get(token.norm)
    if shaped is None:
        shaped = _trait_shaped(doc, token)
    if not shaped or doc.entity[j] is not None or doc.blocked(j):
        return False
    k = j + 1
    if attribute_of(doc, k) is not None and k + 1 < n:
        k += 1  # "a grumpy old man"
    return doc.is_animate(k) and (doc.is_content(k) or doc.entity[k] is not None)


_TRAIT_SHAPE: dict[str, bool] = {}


def _trait_shaped(doc: Doc, token: Token) -> bool:
    """Whether a word looks like an adjective out of context (memoised per spelling)."""
    lex, norm = doc.lex, token.norm
    shaped = (
        norm.isalpha()
        and len(norm) >= 4
        and norm.endswith(_TRAIT_SUFFIXES)
        and norm not in lex.attributes
        and norm not in lex.function_words
        and not token.forms & lex.people
        and not token.forms & lex.animals
    )
    if len(_TRAIT_SHAPE) < 100_000:
        _TRAIT_SHAPE[norm] = shaped
    return shaped


def find_objects(doc: Doc) -> list[ObjectMention]:
    """Noun phrases left to right, with the attributes written before their head noun.

    Also attaches "in red" style colours to the noun before them ("a woman in red and a man in blue").
    """
    tokens, lex = doc.tokens, doc.lex
    n = len(tokens)
    mentions: list[ObjectMention] = []
    i = 0
    while i < n:
        startable = doc.is_content(i) or doc.entity[i] is not None or doc.protected[i] or _trait_at(doc, i)
        if not startable:
            i += 1
            continue
        first = i
        attrs: list[Attribute] = []
        head = i
        last_attr = -1
        j = i
        while j < n:
            attribute = attribute_of(doc, j) or (_trait_attribute(tokens[j].norm) if _trait_at(doc, j) else None)
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


_COPULAS = frozenset({"is", "are", "was", "were", "looks", "look", "seems", "seem", "stays", "remains"})
_DEGREE = frozenset({"very", "so", "completely", "totally", "all", "still", "really", "quite", "fully", "half"})


def attach_predicates(doc: Doc, mentions: list[ObjectMention]) -> list[ObjectMention]:
    """Attributes said with a verb: "the dog is wet and the cat is dry", "one shoe is muddy, the other clean".

    The attribute after "is"/"are"/"looks" belongs to the noun phrase before it, exactly as if it had been
    written before the noun, so binding treats "the left cup is full, the right one is empty" like "a full
    cup and an empty one". The mention's text then runs from the noun to the attribute.
    """
    if not doc.norm_set & _COPULAS:
        return mentions
    tokens = doc.tokens
    n = len(tokens)
    by_end = {mention.end: index for index, mention in enumerate(mentions)}
    out = list(mentions)
    for i in range(1, n - 1):
        if tokens[i].norm not in _COPULAS or doc.blocked(i):
            continue
        k = i + 1
        while k < n - 1 and tokens[k].norm in _DEGREE:
            k += 1
        attribute = attribute_of(doc, k)
        if attribute is None and _adjective_shaped(doc, k):
            attribute = Attribute(tokens[k].norm, "state")
        if attribute is None or (k + 1 < n and doc.is_content(k + 1)):
            continue  # "is a red car": a noun phrase follows, not a predicate
        subject = i - 1 if tokens[i - 1].norm == "other" else doc.np_before(i, limit=2)
        if subject is None and doc.is_content(i - 1):
            subject = i - 1  # a compound the idiom list knows ("the front door is open")
        if subject is None:
            continue
        index = by_end.get(tokens[subject].end)
        if index is None:
            first = subject - 1 if subject > 0 and tokens[subject - 1].norm in ("the", "one") else subject
            mention = ObjectMention(singular(tokens[subject].norm), "", (), tokens[first].start, tokens[subject].end)
            out.append(mention)
            index = len(out) - 1
        mention = out[index]
        text = doc.text[mention.start : tokens[k].end]
        out[index] = ObjectMention(mention.noun, text, (*mention.attributes, attribute), mention.start, tokens[k].end)
    return out


def _adjective_shaped(doc: Doc, k: int) -> bool:
    """A word after "is" that reads as an adjective by its ending ("muddy", "useless", "soaked")."""
    norm = doc.tokens[k].norm
    if not norm.isalpha() or len(norm) < 4 or norm in doc.lex.function_words or doc.entity[k] is not None:
        return False
    return norm.endswith(("y", "ful", "ous", "ive", "less", "ed")) and not norm.endswith("ly")


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
    # Swapping needs something to swap: two objects whose attributes could trade places. Looks (colour,
    # material, size, shape, pattern, age, state) fit any object: "a wooden house with a red roof" could be
    # a red house with a wooden roof. A mood fits only a creature: "a smiling woman with grey hair" cannot
    # trade her smile for the hair's colour, but "a grumpy man and a cheerful girl" can swap moods.
    values: dict[str, set[str]] = {}
    holders: dict[str, int] = {}
    for mention in bound:
        groups = {_group(attr.kind) for attr in mention.attributes}
        for group in groups:
            holders[group] = holders.get(group, 0) + 1
        for attr in mention.attributes:
            values.setdefault(_group(attr.kind), set()).add(attr.value)
    swappable = {group for group, seen in values.items() if len(seen) >= 2 and holders[group] >= 2}
    if not swappable:
        return []
    return [mention for mention in bound if any(_group(attr.kind) in swappable for attr in mention.attributes)]


def _group(kind: str) -> str:
    return "mood" if kind == "mood" else "look"


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


# Actions whose two sides can swap without changing the picture ("a man hugging a woman"), and verbs of
# having, wearing or making, which take things rather than a second actor.
_SYMMETRIC = frozenset(
    {
        "hugging",
        "kissing",
        "embracing",
        "cuddling",
        "snuggling",
        "meeting",
        "marrying",
        "dating",
        "fighting",
        "wrestling",
        "dancing",
        "talking",
        "chatting",
        "arguing",
        "playing",
        "racing",
        "greeting",
        "resembling",
        "facing",
        "sitting",
        "standing",
        "lying",
        "posing",
        "holding",
        "wearing",
        "having",
        "getting",
        "being",
        "taking",
        "making",
        "doing",
        "using",
        "joining",
        "accompanying",
        "sharing",
        "visiting",
    }
)
_PARTICLES = frozenset({"up", "out", "down", "off", "over", "away", "back", "on"})
# Prepositions that send an intransitive action at someone ("barking at a mailman", "running after a child").
_AT_SOMEONE = frozenset({"at", "after"})
# Prepositions that give a thing to or take it from someone ("passing the salt to", "stealing food from").
_TO_SOMEONE = frozenset({"to", "from", "for", "on", "at"})
_OBJECT_OPENERS = frozenset(
    {"a", "an", "the", "his", "her", "their", "its", "my", "our", "your", "this", "that", "another", "some"}
)


def find_any_actions(doc: Doc, taken: set[int]) -> list[tuple[Action, int, int]]:
    """Actions by any verb between two animate things, read from the shape of the clause, not a verb list.

    "A <verb>ing B" ("a nurse bandaging a soldier"), "A <verb>ing at B" ("a dog barking at a mailman"),
    "A <verb>ing a thing to/from B" ("a woman passing the salt to a man") and "A <verb>ed by B" ("a soldier
    bandaged by a nurse"), when A and B are both people or animals and the verb is not symmetric. A
    participle used as an adjective ("a crying baby") has no subject before it and is skipped. ``taken``
    holds the verb positions the role-verb list already read.
    """
    tokens = doc.tokens
    n = len(tokens)
    found: list[tuple[Action, int, int]] = []
    for i in range(1, n - 1):
        if not doc.verbish[i] or i in taken or doc.blocked(i) or doc.entity[i] is not None:
            continue
        norm = tokens[i].norm
        ing = norm.endswith("ing")
        passive = norm.endswith("ed") and tokens[i + 1].norm == "by"
        if not (ing or passive) or norm in _SYMMETRIC:
            continue
        subject = doc.np_before(i, limit=3)
        if subject is None or not doc.is_animate(subject) or doc.tokens[subject].norm in _RECIPROCAL:
            continue
        j = i + 1
        if passive or (tokens[j].norm in _PARTICLES and j + 1 < n):
            j += 1
        via_preposition = not passive and tokens[j].norm in _AT_SOMEONE
        if via_preposition:
            j += 1
        if j >= n:
            continue
        # "herding sheep", "feeding ducks": a bare plural is a habitual activity, not one actor and one
        # receiver; a bare thing may still be given to someone ("stealing food from a seagull").
        opened = tokens[j].norm in _OBJECT_OPENERS or doc.entity[j] is not None
        obj = doc.np_after(j, limit=4)
        if obj is None or (not opened and (via_preposition or passive or doc.is_animate(obj[1]))):
            continue
        obj_head = last = obj[1]
        if not doc.is_animate(obj_head) and not passive and not via_preposition:
            # "passing the salt to an old man": the thing first, then who gets it.
            k = obj[1] + 1
            if k + 1 < n and tokens[k].norm in _TO_SOMEONE:
                second = doc.np_after(k + 1, limit=4)
                if second is not None and tokens[k + 1].norm in _OBJECT_OPENERS:
                    obj_head = last = second[1]
        if tokens[obj_head].norm in _RECIPROCAL or not doc.is_animate(obj_head):
            continue
        doer, receiver = (obj_head, subject) if passive else (subject, obj_head)
        verb = norm[:-3] if ing else norm
        found.append(
            (Action(tokens[doer].norm, verb, tokens[receiver].norm, doc.span_text(subject, last)), subject, last)
        )
    return found


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
