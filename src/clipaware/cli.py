"""The command line: thin wrappers that parse options, call a task and print its result.

No logic lives here. Each command turns options into a task call, then prints the task's result either
pretty (for people) or as JSON (``--json``, for programs). Errors of type :class:`ClipawareError` become a
single line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.console import Console

from clipaware import __version__
from clipaware.errors import ClipawareError

app = typer.Typer(
    name="clipaware",
    help="Image-text matching with CLIP-family models that knows when CLIP is the wrong tool.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def emit_json(payload: Any) -> None:
    """Print one JSON document on stdout (what ``--json`` promises programs)."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")


def _version(value: bool) -> None:
    if value:
        out.print(f"clipaware {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """Image-text matching with CLIP-family models that knows when CLIP is the wrong tool."""


# --- check (query analyzer) ---
@app.command("check")
def check(
    query: str | None = typer.Argument(None, help="The text query to check, in quotes."),
    as_json: bool = typer.Option(
        False, "--json", help='Print {"query", "clip_ok", "limitations", "parse"} (or the scores) as JSON.'
    ),
    check_all: bool = typer.Option(False, "--check-all", help="List every check with pass/fail."),
    file: str | None = typer.Option(
        None,
        "--file",
        help='Check every query in a file (one per line, or JSONL with "query"); JSON lines out.',
    ),
    evaluate_path: str | None = typer.Option(
        None, "--evaluate", help="Score the analyzer on labelled JSONL (query + limitations) and list misses."
    ),
) -> None:
    """Say whether CLIP suits a query; if not, show the words that show why and what to use instead."""
    from pathlib import Path  # imports stay inside: this block is self-contained and `--help` stays fast

    from clipaware.errors import UsageError
    from clipaware.query import analyze
    from clipaware.query.evaluate import evaluate_file
    from clipaware.query.report import analyze_file, render_text

    if sum(x is not None for x in (query, file, evaluate_path)) != 1:
        raise UsageError(
            'give exactly one of: a QUERY, --file F, or --evaluate F.jsonl (e.g. check "a red car")'
        )
    if file is not None:
        for result in analyze_file(Path(file)):
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return
    if evaluate_path is not None:
        report = evaluate_file(Path(evaluate_path))
        if as_json:
            emit_json(report.to_dict())
        else:
            out.print(report.render(), markup=False)
        return
    analysis = analyze(query or "")
    if as_json:
        emit_json(analysis.to_dict())
    else:
        out.print(render_text(analysis, check_all=check_all))


# --- end check ---


def main() -> None:
    """Console-script entry point: run the app, turning our errors into one line and an exit code."""
    try:
        app()  # standalone: typer/click handle --help, usage errors and their exit codes
    except ClipawareError as exc:
        err.print(f"[bold red]error:[/] {exc}", markup=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
