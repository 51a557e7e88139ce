"""Query analysis: read a text query and say whether CLIP suits it, and if not, why and what to use.

Model-free and fast (no torch import): ``analyze("three dogs left of a cat")`` returns a
:class:`QueryAnalysis` with a structured parse and the :class:`Limitation` s found.
"""

from __future__ import annotations

from clipaware.query.analysis import (
    Action,
    Attribute,
    CountConstraint,
    Entity,
    Limitation,
    LimitationKind,
    NegatedTerm,
    ObjectMention,
    QueryAnalysis,
    QueryParse,
    Relation,
)
from clipaware.query.analyze import MAX_QUERY_CHARS, analyze

__all__ = [
    "MAX_QUERY_CHARS",
    "Action",
    "Attribute",
    "CountConstraint",
    "Entity",
    "Limitation",
    "LimitationKind",
    "NegatedTerm",
    "ObjectMention",
    "QueryAnalysis",
    "QueryParse",
    "Relation",
    "analyze",
]
