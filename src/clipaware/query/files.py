"""Queries from a file, analysed one by one (``clipaware check --file``): results as data, never printed here.

How they are shown (text for people, JSON lines for programs) is :mod:`clipaware.cli.output`'s business.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from clipaware.errors import UsageError
from clipaware.query.analyze import analyze


def queries_in(lines: Iterable[str], name: str) -> Iterator[str]:
    """Queries from lines of text: one per line, or JSONL objects with a "query" key (both may be mixed).

    ``name`` says where the lines came from in errors (a path, or ``<stdin>`` for ``check --file -``).
    """
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        if text.startswith("{"):
            try:
                record = json.loads(text)
                query = record["query"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise UsageError(f'{name}:{number}: a JSON line needs a "query" key ({exc})') from exc
            yield query if isinstance(query, str) else str(query)
        else:
            yield text


def read_queries(path: Path) -> Iterator[str]:
    """Queries from a file: one per line, or JSONL objects with a "query" key (both may be mixed)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"cannot read {path}: no such file")
    with path.open(encoding="utf-8", errors="replace") as handle:
        yield from queries_in(handle, str(path))


def analyze_queries(queries: Iterable[str]) -> Iterator[dict[str, Any]]:
    """One JSON-ready result per query; a query the analyzer refuses gets an "error" instead."""
    for query in queries:
        try:
            yield analyze(query).to_dict()
        except UsageError as exc:
            yield {"query": query, "error": str(exc)}


def analyze_file(path: Path) -> Iterator[dict[str, Any]]:
    """One JSON-ready result per query in ``path``; a query the analyzer refuses gets an "error" instead."""
    return analyze_queries(read_queries(path))
