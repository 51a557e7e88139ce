"""Counting: the query asks for, or constrains, how many things there are.

A number counts things when it quantifies a noun ("three kids", "at least 10 balloons", "a dozen eggs",
"a trio of musicians", "a family of four") or when the query asks for a number ("how many", "count the",
"the number of"). A number does not count things when it is part of a name or label ("Route 66", "Model 3",
"number 7"), a year or decade ("1950s"), a measurement or rating ("35mm", "5-star", "2 years old"), or glued
into a compound that names a kind ("three-piece suit", "one-way street", "4x4"). Vague amounts ("several",
"a few", "dozens of") are not counts either: CLIP copes with "a crowd".
"""

from __future__ import annotations

from clipaware.query.analysis import CountConstraint
from clipaware.query.doc import Doc

Finding = tuple[CountConstraint, int, int]

# Words that can start a count besides numbers; without any of these (or a number) the scan is skipped.
COUNT_CUES = frozenset({"how", "count", "counting", "tally", "number", "single", "more", "fewer", "less"}) | frozenset(
    {"pair", "duo", "trio", "quartet", "quintet", "sextet", "twins", "triplets", "quadruplets", "quintuplets"}
)
_TIME_NOUNS = frozenset(
    {
        "day",
        "morning",
        "evening",
        "night",
        "afternoon",
        "time",
        "summer",
        "winter",
        "spring",
        "autumn",
        "fall",
    }
)
_SINGLE_KINDS = frozenset({"bed", "room", "file", "mother", "father", "parent", "malt", "lane", "track", "use"})
_VAGUE_BEFORE_NUMBER_OF = frozenset({"a", "large", "huge", "small", "great", "certain", "whole", "good", "fair"})
_ASK_COUNT_FOLLOWERS = frozenset({"the", "how", "all", "every", "these", "those", "them", "my", "of"})
_HOLDERS = frozenset({"of", "for"})
_NEGATORS_BEFORE_SINGLE = frozenset({"not", "without", "no", "nor", "never", "w/o"})


def detect_counting(doc: Doc) -> list[Finding]:
    """Every count constraint with the token span that shows it."""
    if not (doc.norm_set & COUNT_CUES or any(value is not None for value in doc.numbers)):
        return []  # no number and no counting word: nothing to scan
    tokens, lex = doc.tokens, doc.lex
    n = len(tokens)
    findings: list[Finding] = []
    i = 0
    while i < n:
        if doc.blocked(i):
            i += 1
            continue
        norm = tokens[i].norm
        result = None
        if norm == "how" and i + 1 < n and tokens[i + 1].norm == "many":
            result = _ask(doc, i, i + 2)
        elif norm in ("count", "counting", "tally") and _is_count_request(doc, i):
            result = _ask(doc, i, i + 1)
        elif norm == "number" and i + 1 < n and tokens[i + 1].norm == "of":
            if not (i > 0 and tokens[i - 1].norm in _VAGUE_BEFORE_NUMBER_OF):
                result = _ask(doc, i, i + 2)
        elif norm in ("more", "fewer", "less") and i + 2 < n and not doc.blocked(i + 1):
            result = _comparison(doc, i)
        elif norm in lex.collectives:
            result = _collective(doc, i)
        elif norm == "single":
            result = _single(doc, i)
        else:
            value = doc.number_value(i)
            if value is not None:
                result = _number(doc, i, value)
        if result is not None:
            findings.append(result)
            i = result[2] + 1
            continue
        i += 1
    return findings


def _is_count_request(doc: Doc, i: int) -> bool:
    tokens = doc.tokens
    if i + 1 >= len(tokens) or doc.entity[i] is not None:
        return False
    return tokens[i + 1].norm in _ASK_COUNT_FOLLOWERS or (i == 0 and doc.is_content(i + 1))


def _ask(doc: Doc, first: int, after: int) -> Finding:
    np = doc.np_after(after)
    last = np[1] if np else after - 1
    noun = doc.tokens[np[1]].norm if np else None
    return (CountConstraint(noun, "ask", None, doc.span_text(first, last)), first, last)


def _collective(doc: Doc, i: int) -> Finding | None:
    """ "a trio of musicians", "twins", "a pair of swans" (but "a pair of jeans" is one garment)."""
    tokens, lex = doc.tokens, doc.lex
    value, needs_of = lex.collectives[tokens[i].norm]
    has_of = i + 1 < len(tokens) and tokens[i + 1].norm == "of"
    if needs_of and not has_of:
        return None
    if has_of:
        np = doc.np_after(i + 2)
        if np is None:
            return None
        head = tokens[np[1]]
        if head.forms & lex.pair_items:
            return None
        return (CountConstraint(head.norm, "exact", value, doc.span_text(i, np[1])), i, np[1])
    return (CountConstraint(tokens[i].norm, "exact", value, tokens[i].text), i, i)


def _single(doc: Doc, i: int) -> Finding | None:
    """ "a single apple" is exactly one; "not a single cloud" is an emphatic absence, not a count."""
    tokens = doc.tokens
    before = [tokens[k].norm for k in range(max(0, i - 2), i)]
    if any(word in _NEGATORS_BEFORE_SINGLE for word in before):
        return None
    np = doc.np_after(i + 1)
    if np is None or (np[0] != i + 1 and not doc.is_content(i + 1)):
        return None
    if tokens[np[1]].norm in _SINGLE_KINDS:
        return None
    first = i - 1 if i > 0 and tokens[i - 1].norm in ("a", "one", "only", "just", "exactly") else i
    return (CountConstraint(tokens[np[1]].norm, "exact", 1, doc.span_text(first, np[1])), first, np[1])


def _is_label_number(doc: Doc, i: int) -> bool:
    """Numbers that name or measure instead of counting: "Route 66", "iPhone 14", "2019", "10 am"."""
    tokens, lex = doc.tokens, doc.lex
    token = tokens[i]
    if doc.entity[i] is not None or doc.protected[i] or doc.number_value(i) == 0:
        return True  # inside a name, or "zero" (an absence, not a number of things)
    mid = i > 0 and not doc.is_punct(i - 1)
    if token.cap and not token.norm.isdigit() and mid:
        return True  # "Ocean's Eleven", "the Three Stooges": a capitalised number word is part of a title
    if token.norm.isdigit() and i + 1 < len(tokens) and tokens[i + 1].cap and doc.entity[i + 1] is None:
        nxt = tokens[i + 1]
        if not (nxt.forms & lex.people or nxt.forms & lex.animals) and (i + 2 >= len(tokens) or tokens[i + 2].cap):
            return True  # "12 Angry Men poster": a title
    if token.norm.isdigit() and len(token.norm) == 4 and token.norm[:2] in ("18", "19", "20"):
        return True  # a year
    if i > 0:
        prev = tokens[i - 1]
        if prev.norm in lex.name_preceders or doc.entity[i - 1] in (
            "make",
            "make_model",
            "landmark",
            "brand",
        ):
            return True
        if prev.norm == "." and i > 1 and tokens[i - 2].norm == "no":
            return True
        after_name = prev.cap and prev.norm.isalpha() and prev.norm not in lex.function_words
        if after_name and token.norm.isdigit() and i > 1 and not doc.is_punct(i - 2):
            return True  # a number after a name mid-sentence ("Apollo 11", "Nokia 3310")
    if i + 1 < len(tokens):
        nxt = tokens[i + 1].norm
        drawn = nxt in _DRAWABLE_UNITS and i > 0 and tokens[i - 1].norm == "exactly"  # "exactly three stars"
        if (nxt in lex.units and not drawn) or nxt in (":", "/", "%", "°", "x", "-"):
            return True
        if nxt == "." and i + 2 < len(tokens) and tokens[i + 2].norm.isdigit():
            return True
        if nxt in ("year", "years") or nxt.endswith("-old"):
            return True
    return False


# Units that are also things people draw or photograph (a rating is "4 stars"; a flag has fifty stars).
_DRAWABLE_UNITS = frozenset({"star", "stars"})


def _number(doc: Doc, i: int, value: int) -> Finding | None:
    tokens, lex = doc.tokens, doc.lex
    n = len(tokens)
    norm = tokens[i].norm
    if _is_label_number(doc, i):
        return None
    first = i
    op = "exact"
    comparator = lex.comparators.ends_at(tokens, i)
    if comparator and not any(doc.blocked(k) for k in range(i - comparator[0], i)):
        first = i - comparator[0]
        op = comparator[1]
    # "a dozen", "a hundred", "half a dozen"
    if norm in ("dozen", "hundred", "thousand"):
        if i > 0 and tokens[i - 1].norm in ("a", "one"):
            first = min(first, i - 1)
            if i > 1 and tokens[i - 2].norm == "half":
                first, value = i - 2, value // 2
        elif i + 1 < n and tokens[i + 1].norm == "of":
            return None  # "dozen of" is rare; "dozens of" never reaches here (not a number word)
    j = i + 1
    # "twenty or so runners", "10 or more people", "5+ people"
    if j + 1 < n and tokens[j].norm == "or" and tokens[j + 1].norm in ("so", "more", "fewer", "less", "over"):
        op = {"so": "approx", "more": "at_least", "over": "at_least"}.get(tokens[j + 1].norm, "at_most")
        j += 2
    elif j < n and tokens[j].norm == "+":
        op = "at_least"
        j += 1
    if norm == "one" and op == "exact" and first == i:
        prev = tokens[i - 1].norm if i > 0 else ""
        if prev in (
            "the",
            "no",
            "any",
            "every",
            "each",
            "which",
            "this",
            "that",
            "another",
            "some",
            "not",
            "without",
        ):
            return None  # "the one", "not one chair" (an emphatic absence)
        if any(tokens[k].norm == "other" for k in range(i + 2, min(n, i + 9))):
            return None  # "one shoe is muddy, the other is clean": a contrast, not a number
    # "two of the dogs", "three of them"
    if j + 1 < n and tokens[j].norm == "of" and tokens[j + 1].norm in ("the", "them", "us", "these", "those", "my"):
        if norm == "one" and first == i:
            return None
        np = doc.np_after(j + 1)
        last = np[1] if np else j + 1
        noun = tokens[np[1]].norm if np else None
        return (CountConstraint(noun, op, value, doc.span_text(first, last)), first, last)
    if j < n and (doc.is_content(j) or doc.entity[j] is not None or doc.protected[j]):
        np = doc.np_after(j)
        if np is not None:
            head = tokens[np[1]]
            # "5 stars" is a rating, but "three red stars" or "exactly three stars" are drawn things to count
            exact_word = first != i and tokens[first].norm == "exactly"
            counted_unit = head.norm in _DRAWABLE_UNITS and (doc.described(np[0], np[1]) or exact_word)
            if (head.norm in lex.units and not counted_unit) or (norm == "one" and head.norm in _TIME_NOUNS):
                return None
            return (CountConstraint(head.norm, op, value, doc.span_text(first, np[1])), first, np[1])
    # "a family of four", "a table set for four": the number stands for the things counted.
    held = i > 0 and tokens[i - 1].norm in _HOLDERS and norm != "one" and not norm.isdigit()
    if held and (j >= n or doc.is_stop(j)):
        holder = doc.np_before(i - 1)
        noun = tokens[holder].norm if holder is not None else None
        return (CountConstraint(noun, op, value, doc.span_text(first, i)), first, i)
    if op != "exact" and norm != "one":
        return (CountConstraint(None, op, value, doc.span_text(first, i)), first, i)
    return None


def _comparison(doc: Doc, i: int) -> Finding | None:
    """ "more dogs than cats": a comparison of two counts (op "compare", the first noun is counted)."""
    tokens = doc.tokens
    np = doc.np_after(i + 1, limit=3)
    if np is None or np[0] != i + 1:
        return None
    than = np[1] + 1
    if than >= len(tokens) or tokens[than].norm != "than":
        return None
    other = doc.np_after(than + 1, limit=3)
    if other is None:
        return None
    text = doc.span_text(i, other[1])
    return (CountConstraint(tokens[np[1]].norm, "compare", None, text), i, other[1])
