"""Result types shared by several tasks (a skipped file is :class:`clipaware.images.Skipped`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hit:
    """One search result: a path and its cosine similarity to the query."""

    path: str
    score: float

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "score": round(self.score, 6)}
