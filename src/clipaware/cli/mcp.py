"""``mcp``: clipaware's tools for AI agents, served over the Model Context Protocol on stdio."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from clipaware.cli import output
from clipaware.cli.app import app
from clipaware.cli.options import (
    DB_OPT,
    DETECTOR_OPT,
    DEVICE_OPT,
    MODEL_OPT,
    PRECISION_OPT,
    RUNTIME_OPT,
    STORE_OPT,
)
from clipaware.errors import UsageError


@app.command("mcp")
def mcp_cmd(
    db: Path | None = DB_OPT,
    store: str | None = STORE_OPT,
    root: list[Path] = typer.Option(
        None,
        "--root",
        help="A folder the agent may read images from and index (repeatable; default: the working folder). "
        "Paths outside every root are refused.",
    ),
    model: str | None = MODEL_OPT,
    detector: str = DETECTOR_OPT,
    gallery: Path | None = typer.Option(
        None, "--gallery", help="Folder with one sub-folder of photos per identity/class (fine-grained questions)."
    ),
    feature_model: str | None = typer.Option(
        None, "--feature-model", help="Image features for --gallery (default facebook/dinov2-small)."
    ),
    runtime: str | None = RUNTIME_OPT,
    precision: str | None = PRECISION_OPT,
    device: str | None = DEVICE_OPT,
    debug: bool = typer.Option(False, "--debug", help="Log tracebacks of unexpected failures to stderr."),
) -> None:
    """Serve clipaware to AI agents over MCP (stdio): check a query, search, ask, classify, find similar.

    The index is --db / --store, else the nearest .clipaware.db, else .clipaware.db in the first --root
    (made by the index_folder tool). Register it with an MCP client as the command `clipaware mcp --root DIR`.
    """
    try:
        import mcp  # noqa: F401  (the SDK is an optional extra)
    except ImportError as exc:
        raise UsageError("clipaware mcp needs the MCP SDK: pip install 'clipaware[mcp]'") from exc
    from clipaware.index.sqlite import DEFAULT_DB_NAME, find_default_db
    from clipaware.library import Library
    from clipaware.mcp import build_server
    from clipaware.mcp.roots import Roots

    roots = Roots.of(root or [Path.cwd()])
    location = store or db or find_default_db() or roots.folders[0] / DEFAULT_DB_NAME

    def open_library() -> Library:
        return Library.open(location, model=model, runtime=runtime, precision=precision, device=device, create=True)

    server = build_server(
        open_library, roots, detector=detector, gallery=gallery, feature_model=feature_model, debug=debug
    )
    if sys.stdin.isatty():  # a person ran it: say what it is waiting for (stdout belongs to the protocol)
        output.err.print(
            "clipaware mcp: serving MCP on stdin/stdout for an MCP client (see the README's mcpServers block); "
            "Ctrl-C stops it",
            markup=False,
        )
    server.run("stdio")  # until the client goes; the server then closes the library
