"""What the analyzer returns: a structured parse of the query and the limitations found in it.

Everything is a small frozen dataclass with ``to_dict()`` so that the CLI can print JSON and a later router
(``clipaware ask``) can read counts, relations, actions, negated terms and entities without re-parsing text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class LimitationKind(str, Enum):
    """The five things CLIP's single pooled embedding cannot do reliably."""

    COUNTING = "counting"
    FINE_GRAINED = "fine_grained"
    SPATIAL = "spatial"
    COMPOSITIONAL = "compositional"
    NEGATION = "negation"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Attribute:
    """An attribute word bound to an object, with its class (color, size, material, shape, age, ...)."""

    value: str
    kind: str

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "kind": self.kind}


@dataclass(frozen=True)
class ObjectMention:
    """A noun phrase: its head noun, the attributes bound to it and where it sits in the query."""

    noun: str
    text: str
    attributes: tuple[Attribute, ...]
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "noun": self.noun,
            "text": self.text,
            "attributes": [attribute.to_dict() for attribute in self.attributes],
            "span": [self.start, self.end],
        }


@dataclass(frozen=True)
class CountConstraint:
    """A number the images must satisfy.

    ``op`` is exact, at_least, at_most, approx, ask ("how many?", value None) or compare ("more dogs than
    cats", value None, ``noun`` the first side).
    """

    noun: str | None
    op: str
    value: int | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"noun": self.noun, "op": self.op, "value": self.value, "text": self.text}


@dataclass(frozen=True)
class Relation:
    """A spatial relation ``subject`` ``relation`` ``object``; object "frame" is a position in the picture."""

    subject: str | None
    relation: str
    object: str | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "relation": self.relation, "object": self.object, "text": self.text}


@dataclass(frozen=True)
class Action:
    """A role-order action, who does ``verb`` to whom, or a comparison ("bigger than"): swapping the two
    sides changes the picture."""

    subject: str
    verb: str
    object: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "verb": self.verb, "object": self.object, "text": self.text}


@dataclass(frozen=True)
class NegatedTerm:
    """Something that must be absent or is excluded, and the word that said so."""

    term: str
    cue: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"term": self.term, "cue": self.cue, "text": self.text}


# Entity types CLIP cannot tell apart from their look-alikes (identity, not category).
FINE_GRAINED_TYPES = frozenset({"person", "make_model", "breed", "species", "artwork", "font", "identify"})


@dataclass(frozen=True)
class Entity:
    """A named thing: person, make_model, breed, species, artwork, font, identify (a who/which question);
    landmark, brand, artist and style ("Elvis impersonator") are recorded but are not fine-grained."""

    text: str
    type: str

    @property
    def fine_grained(self) -> bool:
        """Whether CLIP cannot verify it and a labelled gallery (the identify route) must."""
        return self.type in FINE_GRAINED_TYPES

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "type": self.type}


@dataclass(frozen=True)
class QueryParse:
    """The structure a router needs; ``warnings`` say when the rules could not read the query."""

    objects: tuple[ObjectMention, ...] = ()
    counts: tuple[CountConstraint, ...] = ()
    relations: tuple[Relation, ...] = ()
    actions: tuple[Action, ...] = ()
    negated: tuple[NegatedTerm, ...] = ()
    entities: tuple[Entity, ...] = ()
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "objects": [item.to_dict() for item in self.objects],
            "counts": [item.to_dict() for item in self.counts],
            "relations": [item.to_dict() for item in self.relations],
            "actions": [item.to_dict() for item in self.actions],
            "negated": [item.to_dict() for item in self.negated],
            "entities": [item.to_dict() for item in self.entities],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class Limitation:
    """One reason CLIP is the wrong tool: the words that show it, why, and what to use instead."""

    kind: LimitationKind
    evidence: tuple[str, ...]
    explanation: str
    suggestion: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "evidence": list(self.evidence),
            "explanation": self.explanation,
            "suggestion": self.suggestion,
        }


@dataclass(frozen=True)
class QueryAnalysis:
    """The verdict for one query: ``clip_ok`` when no limitation was found.

    ``language`` is the ISO 639-1 code the query reads as. The checks read English only, so for any other
    language ``clip_ok`` is None (no verdict, never a silent yes) and ``parse.warnings`` says what to do.
    """

    query: str
    limitations: tuple[Limitation, ...]
    parse: QueryParse = field(default_factory=QueryParse)
    language: str = "en"

    @property
    def clip_ok(self) -> bool | None:
        if self.limitations:
            return False
        return True if self.language == "en" else None

    @property
    def kinds(self) -> tuple[LimitationKind, ...]:
        return tuple(limitation.kind for limitation in self.limitations)

    def has(self, kind: LimitationKind | str) -> bool:
        return LimitationKind(kind) in self.kinds

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "language": self.language,
            "clip_ok": self.clip_ok,
            "limitations": [limitation.to_dict() for limitation in self.limitations],
            "parse": self.parse.to_dict(),
        }
