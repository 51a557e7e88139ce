"""``check``: whether CLIP suits a query, from its words alone (no model, no torch import)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from clipaware.cli import output
from clipaware.cli.app import app
from clipaware.errors import UsageError


@app.command("check")
def check_cmd(
    query: str | None = typer.Argument(None, help="The text query to check, in quotes."),
    as_json: bool = typer.Option(
        False, "--json", help='Print {"query", "clip_ok", "limitations", "parse"} (or the scores) as JSON.'
    ),
    check_all: bool = typer.Option(False, "--check-all", help="List every check with pass/fail."),
    file: str | None = typer.Option(
        None,
        "--file",
        help='Check every query in a file (one per line, or JSONL with "query"; - reads stdin); JSON lines out.',
    ),
    evaluate_path: str | None = typer.Option(
        None, "--evaluate", help="Score the analyzer on labelled JSONL (query + limitations) and list misses."
    ),
) -> None:
    """Say whether CLIP suits a query; if not, show the words that show why and what to use instead."""
    from clipaware.query import analyze
    from clipaware.query.evaluate import evaluate_file
    from clipaware.query.files import analyze_file, analyze_queries, queries_in

    if sum(x is not None for x in (query, file, evaluate_path)) != 1:
        raise UsageError('give exactly one of: a QUERY, --file F, or --evaluate F.jsonl (e.g. check "a red car")')
    if file is not None:
        results = analyze_queries(queries_in(sys.stdin, "<stdin>")) if file == "-" else analyze_file(Path(file))
        for result in results:
            output.emit_json_line(result)
        return
    if evaluate_path is not None:
        output.analyzer_scores(evaluate_file(Path(evaluate_path)), as_json)
        return
    output.analysis(analyze(query or ""), as_json, check_all=check_all)
