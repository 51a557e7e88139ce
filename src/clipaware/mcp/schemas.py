"""What each tool returns, as types: the SDK publishes them as ``outputSchema`` and checks every result.

They describe the top level of the CLI's ``--json`` documents (the tasks' ``to_dict()``); nested parts
whose keys depend on the route or the parse stay open objects, documented in SKILL.md. The SDK validates
each result against its type before sending it, so a result that drifted from its schema is caught here
(as a tool error), never handed to a client that trusts the schema.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import NotRequired, TypedDict

Json = dict[str, Any]


class Hit(TypedDict):
    path: str
    score: float


class CheckResult(TypedDict):
    """check --json: clip_ok is true exactly when limitations is empty."""

    query: str
    clip_ok: bool
    limitations: list[Json]  # {kind, evidence, explanation, suggestion}
    parse: Json


class SearchResult(TypedDict):
    """hits as search --json (routed: as search --routed --json, with its routes, examined, skipped)."""

    query: str | None
    check: CheckResult | None
    note: str | None
    hits: list[Json]
    routes: NotRequired[list[str]]
    examined: NotRequired[int]
    skipped: NotRequired[list[Json]]


class AskResult(TypedDict):
    """ask --json: answer is a count, true / false, a label, or null for "can't tell"."""

    query: str
    image: str
    answer: bool | int | str | None
    routes: list[str]
    evidence: list[Json]
    notes: list[str]
    analysis: Json


class ClassifyResult(TypedDict):
    image: str
    scores: dict[str, float]


class SimilarResult(TypedDict):
    image: str
    hits: list[Hit]


class DuplicatesResult(TypedDict):
    threshold: float
    groups: list[Json]  # {paths, min_score}


class PeopleResult(TypedDict):
    """people --json: people most photos first, each {id, name, faces, images, representative}."""

    people: list[Json]
    images_scanned: int
    faces: int
    small_faces_skipped: int


class PersonPhotosResult(TypedDict):
    """hits as people photos NAME --text TEXT --json: {path, score, ranked_by, faces}."""

    name: str
    text: str
    hits: list[Json]


class IndexResult(TypedDict):
    db: str
    model: str
    added: int
    updated: int
    removed: int
    unchanged: int
    skipped: list[Json]  # {path, reason}
    ann: Json | None


class DoctorResult(TypedDict):
    ok: bool
    checks: list[Json]  # {name, ok, detail, required}
