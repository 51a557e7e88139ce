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
