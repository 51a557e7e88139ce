"""``analyze(text)``: check one query for the five things CLIP cannot do, with no model at all.

The pipeline is tokenize -> mark idioms, sign texts and quotes -> find entities -> run the five limitation rules ->
attach explanations and suggestions. Every stage looks only a few tokens around each position, so the time is
linear in the query length; bad input is refused with a :class:`UsageError` that says what to do instead.
"""

from __future__ import annotations

import re

from clipaware.errors import UsageError
from clipaware.query.advice import explain
from clipaware.query.analysis import (
    Action,
    CountConstraint,
    Entity,
    Limitation,
    LimitationKind,
    NegatedTerm,
    QueryAnalysis,
    QueryParse,
    Relation,
)
from clipaware.query.binding import (
    attach_predicates,
    binding_evidence,
    find_actions,
    find_any_actions,
    find_comparisons,
    find_objects,
    find_possessions,
)
from clipaware.query.counting import detect_counting
from clipaware.query.doc import Doc
from clipaware.query.entities import find_entities
from clipaware.query.language import ENGLISH, detect_language, not_english_note
from clipaware.query.lexicon import get_lexicon
from clipaware.query.lexicons import known_words
from clipaware.query.negation import detect_negation
from clipaware.query.spatial import detect_spatial
from clipaware.query.tokens import tokenize

MAX_QUERY_CHARS = 10_000
COUNTING, FINE_GRAINED, SPATIAL, COMPOSITIONAL, NEGATION = LimitationKind
# Anything a person can see: not whitespace, not a control or zero-width character.
_VISIBLE = re.compile(r"[^\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u2060\ufeff]")


def _check_input(text: object) -> str:
    if not isinstance(text, str):
        raise UsageError(f"a query must be text, got {type(text).__name__}")
    stripped = text.strip()
    if not _VISIBLE.search(stripped):
        raise UsageError('the query is empty: give the words you would search with, e.g. "a red car"')
    if len(stripped) > MAX_QUERY_CHARS:
        raise UsageError(
            f"the query is {len(stripped):,} characters; queries longer than {MAX_QUERY_CHARS:,} are refused "
            "(a search query is a sentence or two: shorten it)"
        )
    return stripped


_LETTER = re.compile(r"[^\W\d_]")


_NOT_ENGLISH = "the query looks mostly not English: the checks read English and may miss limitations here"


def _warnings(query: str, doc: Doc) -> tuple[str, ...]:
    """Say when the English rules had nothing to read, so "no limitation" is not mistaken for a verdict.

    Other languages are told apart before the checks run (``language.py``); what is left here is a query
    whose words are almost all unknown to every word list, even the function words every English sentence has.
    """
    if not _LETTER.search(query):
        return ("no words found (only symbols, emoji or numbers): nothing for the checks to read",)
    words = [token.norm for token in doc.tokens if token.norm.isalpha()]
    if len(words) >= 4:
        known = known_words()
        if sum(word in known for word in words) < 0.25 * len(words):
            return (_NOT_ENGLISH,)
    return ()


def analyze(text: str) -> QueryAnalysis:
    """Analyse one query: a structured parse and the limitations (empty when CLIP is appropriate).

    Raises :class:`~clipaware.errors.UsageError` for a non-string, an empty/whitespace query or one longer
    than ``MAX_QUERY_CHARS``. Evidence strings are exact substrings of the stripped query.
    """
    query = _check_input(text)
    lex = get_lexicon()
    doc = Doc.build(query, tokenize(query), lex)
    language = detect_language(query, doc.norm_set, lex.function_words)
    if language != ENGLISH:
        # English rules on other languages would find nothing and read as "fine": say so instead.
        return QueryAnalysis(query, (), QueryParse(warnings=(not_english_note(language),)), language)

    entities = find_entities(doc)
    counts = detect_counting(doc)
    relations = detect_spatial(doc)
    objects = attach_predicates(doc, find_objects(doc))
    bound = binding_evidence(doc, objects)
    roles = find_actions(doc)
    taken = {k for _, first, last in roles for k in range(first, last + 1)}
    actions = roles + find_any_actions(doc, taken) + find_comparisons(doc) + find_possessions(doc)
    negations = detect_negation(doc)

    named = [Entity(doc.span_text(e.first, e.last), e.type) for e in entities]
    evidence = (
        (COUNTING, [count.text for count, _, _ in counts]),
        (FINE_GRAINED, [entity.text for entity, e in zip(named, entities, strict=True) if e.fine_grained]),
        (SPATIAL, [relation.text for relation, _, _ in relations]),
        (COMPOSITIONAL, [mention.text for mention in bound] + [action.text for action, _, _ in actions]),
        (NEGATION, [term.text for term, _, _ in negations]),
    )
    parse = QueryParse(
        objects=tuple(objects),
        counts=tuple([count for count, _, _ in counts]),
        relations=tuple([relation for relation, _, _ in relations]),
        actions=tuple([action for action, _, _ in actions]),
        negated=tuple([term for term, _, _ in negations]),
        entities=tuple(named),
        # A query with findings was readable; only a clean verdict needs the "could not read it" check.
        warnings=() if any(texts for _, texts in evidence) else _warnings(query, doc),
    )
    limitations = []
    for kind, texts in evidence:
        if texts:
            explanation, suggestion = explain(kind, parse)
            unique = tuple(dict.fromkeys(texts)) if len(texts) > 1 else tuple(texts)
            limitations.append(Limitation(kind, unique, explanation, suggestion))
    return QueryAnalysis(query, tuple(limitations), parse, ENGLISH)


__all__ = [
    "MAX_QUERY_CHARS",
    "Action",
    "CountConstraint",
    "NegatedTerm",
    "Relation",
    "analyze",
]
