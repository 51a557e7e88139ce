"""The MCP server: one opened library held warm, clipaware's tools on it, every failure a one-line tool error.

The SDK already turns an exception inside a tool into a result with ``isError`` instead of a dead server.
What this subclass adds is the wording: our own errors (bad image, missing index, model not available,
path outside the roots) and argument errors (k out of range, empty labels, an over-long query) reach the
agent as one line naming the tool and the reason, which is what it needs to correct the next call. A bug
still becomes a one-line tool error; its traceback goes to the server's log only with ``--debug``.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from pydantic import ValidationError

from clipaware import __version__
from clipaware.errors import ClipawareError
from clipaware.mcp.roots import Roots
from clipaware.mcp.tools import Session, one_line, register

logger = logging.getLogger("clipaware.mcp")

INSTRUCTIONS = """\
clipaware: image-text matching with CLIP that knows when CLIP is the wrong tool.
Before ranking or classifying images by a text query, call check_query. If clip_ok is true, search_images
(over the indexed folder) or classify_image (one image) are right. If it is false, limitations[].kind says
why: counting, spatial, compositional and negation questions go to ask_image (one image) or search_images
with routed=true (a folder); fine_grained identity needs ask_image with the server's labelled gallery.
Images are paths under the server's roots, or paths exactly as a search result returned them.
Index a folder once with index_folder; find_similar and find_duplicates work on that index."""


def validation_line(error: ValidationError) -> str:
    """The first argument error as ``name: what is wrong`` (values left out: they can be long or private)."""
    problems = error.errors(include_url=False, include_input=False)
    if not problems:
        return "invalid arguments"
    first = problems[0]
    where = ".".join(str(part) for part in first["loc"]) or "arguments"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{where}: {first['msg']}{more}"


class ClipawareMCP(MCPServer):
    """MCPServer whose tool errors are one line each and never carry a traceback to the client."""

    def __init__(self, *args: Any, debug: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, debug=debug, log_level="DEBUG" if debug else "WARNING", **kwargs)
        self._debug = debug

    async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, (ClipawareError, OSError, sqlite3.Error)):  # the user's input or environment
                raise ToolError(f"{name}: {one_line(cause)}") from None
            if isinstance(cause, ValidationError):
                raise ToolError(f"{name}: {validation_line(cause)}") from None
            logger.error("%s failed: %r", name, cause, exc_info=cause if self._debug else None)
            detail = f"{type(cause).__name__}: {one_line(cause)}" if cause is not None else "internal error"
            raise ToolError(f"{name} failed unexpectedly ({detail}); run the server with --debug for details") from None
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                raise ToolError(f"{name}: {validation_line(cause)}") from None
            if isinstance(cause, (ClipawareError, OSError, sqlite3.Error)):
                raise ToolError(f"{name}: {one_line(cause)}") from None
            raise ToolError(one_line(exc)) from None


def build_server(
    library: Any | Callable[[], Any],
    roots: Sequence[str | Path] | Roots,
    *,
    detector: str = "auto",
    gallery: str | Path | None = None,
    feature_model: str | None = None,
    debug: bool = False,
) -> ClipawareMCP:
    """An MCP server holding ``library`` (opened once, its models loaded on first use) with the tools on it.

    ``library`` is a :class:`~clipaware.library.Library` or a function that opens one. Every tool runs on
    one worker thread, and an SQLite connection may only be used by the thread that opened it, so the CLI
    passes the function: it runs here, on that thread (its errors, such as an index built with another
    model, still surface now, before the server starts answering).
    """
    session = Session(
        library=None,
        roots=roots if isinstance(roots, Roots) else Roots.of(roots),
        detector=detector,
        gallery=Path(gallery).expanduser().resolve() if gallery else None,
        feature_model=feature_model,
    )
    session.library = session.worker.submit(library).result() if callable(library) else library

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[None]:
        try:
            yield
        finally:  # the store is closed on the thread that opened it
            await session.close()

    server = ClipawareMCP(
        name="clipaware", instructions=INSTRUCTIONS, version=__version__, debug=debug, lifespan=lifespan
    )
    register(server, session)
    return server
