"""Turning analyses into what ``clipaware check`` prints: text for people, JSON lines for programs.

Kept out of ``cli.py`` so the command stays a few lines and so the wording can be tested without a CLI.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from clipaware.errors import UsageError
from clipaware.query.analysis import LimitationKind, QueryAnalysis
from clipaware.query.analyze import analyze

CHECK_TITLES = {
    LimitationKind.COUNTING: "counting (how many)",
    LimitationKind.FINE_GRAINED: "fine-grained identity (people, models, breeds, species, artworks, fonts)",
    LimitationKind.SPATIAL: "spatial relations and frame positions",
    LimitationKind.COMPOSITIONAL: "attribute / role binding",
    LimitationKind.NEGATION: "negation and exclusion",
}


def _escape(text: str) -> str:
    # rich markup would eat "[...]" in a user's query
    return text.replace("[", r"\[")


def render_text(analysis: QueryAnalysis, check_all: bool = False) -> str:
    """Rich-markup text: a verdict line, then each limitation (or every check with ``check_all``)."""
    lines: list[str] = []
    query = _escape(analysis.query)
    if analysis.clip_ok is None:
        lines.append(f"❔ No verdict for: [bold]{query}[/]  (language: {analysis.language})")
    elif analysis.clip_ok:
        lines.append(f"✅ CLIP is appropriate for: [bold]{query}[/]")
    else:
        kinds = ", ".join(kind.value for kind in analysis.kinds)
        lines.append(f"❌ CLIP is the wrong tool for: [bold]{query}[/]  ({kinds})")
    by_kind = {limitation.kind: limitation for limitation in analysis.limitations}
    for kind in LimitationKind:
        limitation = by_kind.get(kind)
        if limitation is None:
            if check_all:
                lines.append(f"  ✅ pass  {CHECK_TITLES[kind]}")
            continue
        evidence = ", ".join(f'"{_escape(text)}"' for text in limitation.evidence)
        lines.append(f"  ❌ {'fail  ' if check_all else ''}[bold]{kind.value}[/]: {CHECK_TITLES[kind]}")
        lines.append(f"     evidence:   {evidence}")
        lines.append(f"     why:        {_escape(limitation.explanation)}")
        lines.append(f"     instead:    {_escape(limitation.suggestion)}")
    for warning in analysis.parse.warnings:
        lines.append(f"  ⚠ {_escape(warning)}")
    return "\n".join(lines)


def read_queries(path: Path) -> Iterator[str]:
    """Queries from a file: one per line, or JSONL objects with a "query" key (both may be mixed)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"cannot read {path}: no such file")
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            text = line.strip()
            if not text:
                continue
            if text.startswith("{"):
                try:
                    record = json.loads(text)
                    query = record["query"]
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    raise UsageError(f'{path}:{number}: a JSON line needs a "query" key ({exc})') from exc
                yield query if isinstance(query, str) else str(query)
            else:
                yield text


def analyze_file(path: Path) -> Iterator[dict[str, Any]]:
    """One JSON-ready result per query in ``path``; a query the analyzer refuses gets an "error" instead."""
    for query in read_queries(path):
        try:
            yield analyze(query).to_dict()
        except UsageError as exc:
            yield {"query": query, "error": str(exc)}


# Below this many queries a second process costs more to start than it saves.
PARALLEL_FROM = 2_000
_CHUNK = 256


def _json_line(query: str) -> str:
    """One query's result as a JSON line (run in a worker, so the JSON encoding is parallel too)."""
    try:
        result = analyze(query).to_dict()
    except UsageError as exc:
        result = {"query": query, "error": str(exc)}
    return json.dumps(result, ensure_ascii=False)


def check_file_lines(path: Path, jobs: int = 0) -> Iterator[str]:
    """JSON lines for every query in ``path``, in file order, using ``jobs`` processes (0: every core).

    A file of many queries is the one place the analyzer's speed adds up (a log of a million searches), and
    each query is independent, so large files are split across processes; small files stay in this one.
    """
    queries = list(read_queries(path))
    workers = (os.cpu_count() or 1) if jobs <= 0 else jobs
    if workers <= 1 or len(queries) < PARALLEL_FROM:
        for query in queries:
            yield _json_line(query)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with context.Pool(min(workers, len(queries) // _CHUNK + 1)) as pool:
        yield from pool.imap(_json_line, queries, chunksize=_CHUNK)
