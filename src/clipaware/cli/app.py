"""The one typer application every command module registers on (kept apart so they can import it)."""

from __future__ import annotations

import typer

from clipaware import __version__
from clipaware.cli import output

app = typer.Typer(
    name="clipaware",
    help="Image-text matching with CLIP-family models that knows when CLIP is the wrong tool.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Help is plain text: typer's rich mode reads help strings as markup, and `milvus://HOST:PORT[/COLLECTION]`
    # crashed `index --help` (a closing tag that matches nothing). Plain help also drops the `<bool>` metavars.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        output.version(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Image-text matching with CLIP-family models that knows when CLIP is the wrong tool."""
