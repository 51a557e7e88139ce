"""Routed search: CLIP retrieves candidates, the routes decide which of them really answer the query.

CLIP is a good *recall* stage even for "three dogs" or "a red car left of a blue truck" (the right images
are usually among its top few dozen), but a poor *judge*. So the index returns CLIP's top candidates and
``ask`` checks each one through the route the query needs; hits that the routes reject are dropped and
every kept hit carries its evidence. Queries CLIP handles alone are answered by CLIP alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clipaware.errors import ImageLoadError
from clipaware.index.filters import Filters
from clipaware.query import analyze
from clipaware.tasks.ask import Toolkit, ask
from clipaware.tasks.results import Hit, Skipped
from clipaware.tasks.search import search

if TYPE_CHECKING:
    from clipaware.library import Library

DEFAULT_CANDIDATES = 50


@dataclass(frozen=True)
class RoutedHit:
    path: str
    score: float  # CLIP's similarity, the order among kept hits
    answer: Any
    evidence: list[dict[str, Any]]

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "score": round(self.score, 6), "answer": self.answer, "evidence": self.evidence}


@dataclass(frozen=True)
class RoutedSearch:
    query: str
    routes: tuple[str, ...]
    examined: int
    hits: tuple[RoutedHit, ...]
    skipped: tuple[Skipped, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "query": self.query,
            "routes": list(self.routes),
            "examined": self.examined,
            "hits": [h.to_dict() for h in self.hits],
            "skipped": [s.to_dict() for s in self.skipped],
        }


def _kept(answer: Any) -> bool:
    """A yes/no answer must be yes; a count is kept when at least one was found."""
    if isinstance(answer, bool):
        return answer
    if isinstance(answer, int):
        return answer > 0
    return answer is not None


def routed_search(
    library: Library,
    query: str,
    *,
    k: int = 10,
    candidates: int = DEFAULT_CANDIDATES,
    kit: Toolkit | None = None,
    filters: Filters | None = None,
    exact: bool | None = None,
) -> RoutedSearch:
    """Search ``query`` with CLIP, then keep the candidates whose routed answer holds.

    ``kit`` (default: ``library.toolkit()``) should share the library's CLIP, so it is loaded once.
    """
    analysis = analyze(query)
    kit = kit or library.toolkit()
    pool: list[Hit] = search(library, text=query, k=max(k, candidates), filters=filters, exact=exact)
    if not analysis.limitations:
        hits = tuple(RoutedHit(h.path, h.score, True, [{"route": "clip"}]) for h in pool[:k])
        return RoutedSearch(analysis.query, ("clip",), len(pool), hits, ())
    kept: list[RoutedHit] = []
    skipped: list[Skipped] = []
    routes: dict[str, None] = {}
    for hit in pool:
        try:
            answer = ask(hit.path, query, kit=kit)
        except ImageLoadError as exc:
            skipped.append(Skipped(hit.path, exc.reason))
            continue
        routes.update(dict.fromkeys(s.route for s in answer.steps))
        if _kept(answer.answer):
            kept.append(RoutedHit(hit.path, hit.score, answer.answer, [s.to_dict() for s in answer.steps]))
            if len(kept) >= k:
                break
    return RoutedSearch(analysis.query, tuple(routes), len(pool), tuple(kept), tuple(skipped))
