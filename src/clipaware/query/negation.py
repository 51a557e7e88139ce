"""Negation: something must be absent or is excluded.

CLIP's text encoder largely ignores "no" and "without": "a beach with no people" lands next to "a beach with
people". Cues are negators followed by what they exclude ("without a leash", "no ppl", "except red",
"isn't crowded", "nobody on the platform", "non-dog animals"). Not negation: names of signs ("no parking
zone", "'No Vacancy' sign", "do not disturb sign"), idioms ("not bad", "nothing but blue sky",
"never-ending"), bounds ("no more than two": that is counting) and words like "empty" or "wireless".
"""

from __future__ import annotations

from clipaware.query.analysis import NegatedTerm
from clipaware.query.doc import Doc

Finding = tuple[NegatedTerm, int, int]

_NOT_AN_EXCLUSION_AFTER_NO = frozenset(
    {
        "more",
        "fewer",
        "less",
        "longer",
        "matter",
        "doubt",
        "wonder",
        "problem",
        "way",
        "sooner",
        "better",
        "idea",
    }
)
_BOUND_AFTER_NOT = frozenset({"more", "fewer", "less", "over", "under", "only", "just", "even", "too", "very"})
_TERM_REACH = 5
_INDEFINITES = frozenset({"anyone", "anybody", "anything", "someone", "somebody", "something", "people"})


def detect_negation(doc: Doc) -> list[Finding]:
    """Every negated term with the span from its cue to the excluded thing."""
    tokens, lex = doc.tokens, doc.lex
    n = len(tokens)
    findings: list[Finding] = []
    i = 0
    while i < n:
        if doc.blocked(i):
            i += 1
            continue
        norm = tokens[i].norm
        if norm.startswith("non-") and norm not in lex.non_words and len(norm) > 4:
            term = norm[4:]
            findings.append((NegatedTerm(term, "non-", tokens[i].text), i, i))
            i += 1
            continue
        match = lex.negators.match(tokens, i) if "negators" in doc.starts[i] else None
        if not match:
            i += 1
            continue
        size, kind = match
        after = i + size
        if _names_a_sign(doc, i, after):
            i = after
            continue
        finding: Finding | None
        if kind == "pronoun":
            finding = _pronoun(doc, i, after)
        elif kind == "clause":
            finding = _clause(doc, i, after)
        else:
            finding = _term(doc, i, after)
        if finding is not None:
            findings.append(finding)
            i = finding[2] + 1
            continue
        i = after
    return findings


def _names_a_sign(doc: Doc, i: int, after: int) -> bool:
    """ "No Smoking sign", "no entry zone": the negator is part of the text of a sign."""
    tokens, lex = doc.tokens, doc.lex
    for k in range(after + 1, min(len(tokens), after + 4)):
        if tokens[k].norm in lex.sign_nouns:
            between = [tokens[m].norm for m in range(after, k)]
            if all(word.isalpha() and word not in ("with", "on", "in", "at") for word in between):
                return True
        if doc.is_punct(k) or doc.is_punct(k - 1):
            break
    return False


def _term_after(doc: Doc, start: int) -> tuple[str, int] | None:
    """The excluded thing after a cue: a noun phrase, else the next content word within reach."""
    tokens = doc.tokens
    n = len(tokens)
    np = doc.np_after(start)
    if np is not None and tokens[np[1]].norm not in ("it", "them", "one", "ones"):
        return tokens[np[1]].norm, np[1]
    for k in range(start, min(n, start + _TERM_REACH)):
        if doc.is_punct(k):
            return None
        if tokens[k].norm in _INDEFINITES:
            return tokens[k].norm, k  # "without anyone on it", "not anything sharp"
        if doc.is_content(k) or doc.is_verbish(k) or doc.entity[k] is not None:
            return tokens[k].norm, k
    return None


def _term(doc: Doc, i: int, after: int) -> Finding | None:
    tokens = doc.tokens
    n = len(tokens)
    cue = tokens[i].norm
    if after >= n:
        return None
    nxt = tokens[after].norm
    if cue == "no" and (nxt in _NOT_AN_EXCLUSION_AFTER_NO or doc.number_value(after) is not None):
        return None
    if cue in ("missing", "absent") and i > 0 and tokens[i - 1].norm in ("a", "an", "the", "my", "his", "her"):
        return None  # "the missing piece", "a missing person poster": an adjective, nothing excluded
    found = _term_after(doc, after)
    if found is None:
        return None
    term, last = found
    return (NegatedTerm(term, doc.span_text(i, after - 1), doc.span_text(i, last)), i, last)


def _clause(doc: Doc, i: int, after: int) -> Finding | None:
    """ "not wearing a tie", "isn't red", "doesn't have a dishwasher", "not a single cloud"."""
    tokens = doc.tokens
    n = len(tokens)
    if after >= n:
        return None
    nxt = tokens[after].norm
    if nxt in _BOUND_AFTER_NOT or (
        nxt in ("at", "no") and after + 1 < n and tokens[after + 1].norm in ("all", "least", "most")
    ):
        return None
    found = _term_after(doc, after)
    if found is None:
        return None
    term, last = found
    return (NegatedTerm(term, doc.span_text(i, after - 1), doc.span_text(i, last)), i, last)


def _pronoun(doc: Doc, i: int, after: int) -> Finding | None:
    """ "nobody on the platform", "none of the desks are occupied", "no one standing in front"."""
    tokens = doc.tokens
    cue = doc.span_text(i, after - 1)
    term = "person" if tokens[i].norm in ("nobody", "no", "noone", "no-one") else tokens[i].norm
    last = after - 1
    if after + 1 < len(tokens) and tokens[after].norm == "of":
        np = doc.np_after(after + 1)
        if np is not None:
            term, last = tokens[np[1]].norm, np[1]
    return (NegatedTerm(term, cue, doc.span_text(i, last)), i, last)
