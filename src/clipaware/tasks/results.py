"""Result types shared by several tasks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Skipped:
    """A file that was not processed, and why (always reported, never silently dropped)."""

    path: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@dataclass(frozen=True)
class Hit:
    """One search result: a path and its cosine similarity to the query."""

    path: str
    score: float

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "score": round(self.score, 6)}


def answer_words(answer: object) -> str:
    """yes / no / can't tell for verdicts; numbers and labels as they are (0 is a count, not "no")."""
    if answer is True:
        return "yes"
    if answer is False:
        return "no"
    return "can't tell" if answer is None else str(answer)
