"""Spatial: a relation between two depicted objects, or a position inside the frame.

CLIP pools the image into one vector, so "cat left of dog" and "dog left of cat" score alike. A relation
needs a noun on each side ("shoes under the bed"); setting prepositions ("dogs on a beach", "a house near
the lake") and idioms ("under construction", "behind the scenes", "in front of the camera") are not
relations. Frame positions are phrases like "on the left", "in the top-right corner", "at the bottom of
the poster", "in the back row"; "left luggage" or "left-handed" are not positions.
"""

from __future__ import annotations

from clipaware.query.analysis import Relation
from clipaware.query.doc import Doc

Finding = tuple[Relation, int, int]

_VIEWERS = frozenset({"camera", "lens", "viewer", "photographer", "audience", "screen"})
_EVENT_NOUNS = frozenset(
    {
        "five",
        "handshake",
        "kiss",
        "hug",
        "match",
        "game",
        "fight",
        "race",
        "conversation",
        "argument",
        "battle",
        "duel",
    }
)
_FRAME_PREPS = frozenset({"in", "on", "at", "to", "toward", "towards", "from"})
_FRAME_PARTS = frozenset({"side", "corner", "half", "edge", "part", "third", "area", "portion", "quarter", "row"})
_FRAME_MODIFIERS = frozenset({"far", "very", "upper", "lower", "top", "bottom", "extreme", "left", "right"})
_OPPOSITES = frozenset({"left", "right", "front", "behind", "back", "top", "bottom", "above", "below"})
# Words that can start a frame position (with the frame words themselves, added below).
FRAME_CUES = frozenset(
    {
        "left",
        "right",
        "top",
        "bottom",
        "middle",
        "center",
        "corner",
        "foreground",
        "background",
        "upper",
        "lower",
    }
    | {"front", "back", "behind", "above", "below", "centered", "off-center"}
)
_HEIGHTS = frozenset({"mountain", "hill", "cliff", "summit", "peak", "roof", "world", "ridge", "dune"})


def detect_spatial(doc: Doc) -> list[Finding]:
    """Relations between two nouns, then positions in the frame."""
    cued = "relations" in doc.present or doc.norm_set & FRAME_CUES
    if not cued and not any("-" in norm for norm in doc.norm_set):  # "top-right" is a position too
        return []
    findings: list[Finding] = []
    covered: set[int] = set()
    tokens = doc.tokens
    n = len(tokens)
    i = 0
    while i < n:
        if doc.blocked(i):
            i += 1
            continue
        match = doc.relation_at[i]
        if match:
            size, (canonical, strength) = match
            finding = _relation(doc, i, size, canonical, strength)
            if finding is not None:
                findings.append(finding)
                covered.update(range(finding[1], finding[2] + 1))
                i += size
                continue
        i += 1
    frame_words = doc.lex.frame_words
    for i in range(n):
        norm = tokens[i].norm
        if not (norm in frame_words or norm in _OPPOSITES or norm in ("front", "back", "centered") or "-" in norm):
            continue  # cheap test first: most words cannot start a frame position
        if i in covered or doc.blocked(i) or doc.entity[i] is not None:
            continue
        finding = _frame_position(doc, i)
        if finding is not None:
            findings.append(finding)
            covered.update(range(finding[1], finding[2] + 1))
    return findings


_DEMANDS = frozenset({"must", "should", "needs", "has", "have"})
_OPENERS = frozenset(
    {"a", "an", "the", "my", "his", "her", "its", "their", "our", "your", "this", "that", "him", "them", "it", "me"}
)
_STRUCTURES = frozenset({"wall", "house", "building", "fence", "barn", "shed"})
_BACKDROPS = frozenset(
    {"background", "backdrop", "sky", "sunset", "sunrise", "light", "wind", "odds", "clock", "grain", "current", "tide"}
)


def _relation(doc: Doc, i: int, size: int, canonical: str, strength: str) -> Finding | None:
    tokens, lex = doc.tokens, doc.lex
    after = i + size
    if strength == "pronoun":
        # "a cup to its right": the object is the thing named before, which the pronoun points back to.
        subject = doc.np_before(i)
        if subject is None:
            return None
        last = i + size - 1
        return (Relation(tokens[subject].norm, canonical, "it", doc.span_text(i, last)), i, last)
    if after + 1 < len(tokens) and tokens[after].norm in ("or", "and"):
        # "in front of or behind the fire truck": the object follows the second relation.
        second = lex.relations.match(tokens, after + 1)
        if second:
            after += 1 + second[0]
    if after >= len(tokens):
        return None
    # "over 50 people", "under 5", "around 20 runners", "between 3 and 5": amounts, not places.
    amount = doc.number_value(after) is not None and tokens[i].norm in ("over", "under", "around", "between")
    range_follows = after + 1 < len(tokens) and tokens[after + 1].norm in ("and", "to", "-")
    if amount and (canonical != "between" or range_follows):
        return None
    obj = doc.np_after(after)
    subject = doc.np_before(i)
    if obj is None or subject is None:
        return None
    obj_head, subject_head = tokens[obj[1]], tokens[subject]
    if obj_head.norm in _VIEWERS:
        return None
    # "the moon must sit low over the hills": where a sky object must be is asked for, even over scenery.
    demanded = bool(tokens[subject].forms & lex.sky_nouns) and any(
        tokens[k].norm in _DEMANDS for k in range(subject + 1, i)
    )
    described = doc.described(obj[0], obj[1]) or demanded  # "a green star": drawn objects, not the setting
    one_of_them = tokens[after].norm in ("a", "an")  # "above a star" is one star; "under the stars" is the sky
    setting_sky = canonical in ("under", "below", "above", "around") and obj_head.forms & lex.sky_nouns
    if setting_sky and not (described or one_of_them):
        return None  # "under the stars", "above the clouds": a setting
    if obj_head.forms & lex.ground_nouns and not described:
        return None  # "cows grazing beside a river", "a kite above the beach": a scene, not two objects
    cue = tokens[i + size - 1].norm if size > 1 and tokens[i].norm in ("propped", "leaning") else tokens[i].norm
    if cue in ("against", "around", "along", "across") and obj_head.norm in _BACKDROPS:
        return None  # "a jacket against a white background", "sailing against the wind"
    if cue in ("against", "around", "along", "across") and tokens[after].norm not in _OPENERS:
        return None  # "a road trip across america", "sailing along coastlines": a route, not one object
    if (cue in ("against", "along") or strength == "weak") and obj_head.forms & _STRUCTURES:
        return None  # "a ladder leaning against a house": the building is where it stands, not a second object
    if cue == "around" and doc.is_animate(subject):
        return None  # "people sitting around a campfire": a gathering, not an arrangement of objects
    at_foot = size > 2 and tokens[i + 2].norm in ("foot", "base")
    if (canonical == "on_top_of" or at_foot) and obj_head.forms & _HEIGHTS:
        return None  # "on top of a mountain": a place to stand
    if strength == "weak" and obj_head.cap and doc.entity[obj[1]] is None and not doc.protected[obj[1]]:
        return None  # "a balloon over Cappadocia": a named place
    if strength == "weak" and not demanded:
        if obj_head.norm in ("other", "another"):
            return None  # "facing each other": how they are turned, not where they are
        for head in (obj_head, subject_head):
            if head.forms & lex.setting_nouns or head.forms & lex.sky_nouns:
                return None
    if canonical in ("between", "either_side_of") and subject_head.norm in _EVENT_NOUNS:
        return None
    if doc.idiom[subject]:
        return None
    relation = Relation(subject_head.norm, canonical, obj_head.norm, doc.span_text(i, obj[1]))
    return (relation, i, obj[1])


def _frame_position(doc: Doc, i: int) -> Finding | None:
    """ "on the left", "the left side of the frame", "top-right corner", "left or right", "back row"."""
    tokens, lex = doc.tokens, doc.lex
    n = len(tokens)
    norm = tokens[i].norm
    parts = norm.split("-")
    if len(parts) == 2 and all(part in lex.frame_words for part in parts):
        # "top-right", "bottom-left": always a place in the picture.
        last = i + 1 if i + 1 < n and tokens[i + 1].norm in _FRAME_PARTS else i
        return (Relation(None, norm.replace("-", "_"), "frame", doc.span_text(i, last)), i, last)
    if norm in ("front", "back") and i + 1 < n and tokens[i + 1].norm == "row":
        return (Relation(None, f"{norm}_row", "frame", doc.span_text(i, i + 1)), i, i + 1)
    if norm in _OPPOSITES and i + 2 < n and tokens[i + 1].norm == "or" and tokens[i + 2].norm in _OPPOSITES:
        return (Relation(None, f"{norm}_or_{tokens[i + 2].norm}", None, doc.span_text(i, i + 2)), i, i + 2)
    if norm in ("centered", "off-center") and i + 3 < n and tokens[i + 1].norm in ("in", "within"):
        obj = doc.np_after(i + 2)
        if obj is not None and tokens[obj[1]].norm in lex.frame_nouns:
            return (Relation(None, "center", "frame", doc.span_text(i, obj[1])), i, obj[1])
    kind = lex.frame_words.get(norm)
    if kind is None:
        return None
    # Walk back over "the far upper" to a preposition: "in the far left corner".
    k = i - 1
    while k >= 0 and tokens[k].norm in _FRAME_MODIFIERS:
        k -= 1
    has_prep = k >= 1 and tokens[k].norm == "the" and tokens[k - 1].norm in _FRAME_PREPS
    has_the = k >= 0 and tokens[k].norm == "the"
    last = i
    if i + 1 < n and tokens[i + 1].norm in lex.frame_words and tokens[i + 1].norm != norm:
        last = i + 1  # "bottom left", "top right"
        if has_prep or has_the or kind == "mid":
            return (
                Relation(None, f"{norm}_{tokens[i + 1].norm}", "frame", doc.span_text(k if has_prep else i, last)),
                i,
                last,
            )
    if last + 1 < n and tokens[last + 1].norm in _FRAME_PARTS:
        last += 1
        part_named = True
    else:
        part_named = False
    of_object = None
    if last + 2 < n and tokens[last + 1].norm == "of":
        obj = doc.np_after(last + 2)
        if obj is not None:
            of_object = obj
    if of_object is not None:
        obj_head = tokens[of_object[1]]
        in_frame = obj_head.norm in lex.frame_nouns or obj_head.norm in lex.media_nouns
        if kind == "mid" and not in_frame:
            return None  # "at the top of the stairs", "in the middle of the road": a setting
        if not (has_prep or has_the or part_named):
            return None
        first = k - 1 if has_prep else i
        relation = Relation(None, norm, "frame" if in_frame else obj_head.norm, doc.span_text(first, of_object[1]))
        return (relation, first, of_object[1])
    if part_named and (has_the or has_prep) and norm not in ("middle", "center", "centre"):
        first = k - 1 if has_prep else k
        return (Relation(None, norm, "frame", doc.span_text(first, last)), first, last)
    if has_prep:
        clause_ends = last + 1 >= n or doc.is_stop(last + 1) or doc.is_punct(last + 1)
        if kind == "edge" or clause_ends:
            return (Relation(None, norm, "frame", doc.span_text(k - 1, last)), k - 1, last)
    return None
