"""Queries from a file, analysed one by one (``clipaware check --file``): results as data, never printed here.

How they are shown (text for people, JSON lines for programs) is :mod:`clipaware.cli.output`'s business.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

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
            except (json.JSONDecodeError, KeyError, TypeError, RecursionError) as exc:  # 200,000 "[" deep: no crash
                raise UsageError(f'{name}:{number}: a JSON line needs a "query" key ({exc})') from None
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


def check_file_lines(queries: Iterable[str], jobs: int = 0) -> Iterator[str]:
    """JSON lines for every query, in order, using ``jobs`` processes (0: every core).

    A file of many queries is the one place the analyzer's speed adds up (a log of a million searches), and
    each query is independent, so large files are split across processes; small files stay in this one.
    """
    queries = list(queries)
    workers = (os.cpu_count() or 1) if jobs <= 0 else jobs
    if workers <= 1 or len(queries) < PARALLEL_FROM:
        for query in queries:
            yield _json_line(query)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with context.Pool(min(workers, len(queries) // _CHUNK + 1)) as pool:
        yield from pool.imap(_json_line, queries, chunksize=_CHUNK)
