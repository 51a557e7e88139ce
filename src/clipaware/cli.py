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
