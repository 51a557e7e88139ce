"""A synchronous handle on a real ``clipaware mcp`` process, driven by the MCP SDK's own stdio client.

The SDK's client is async; a blocking portal runs it on a background event loop so one server process can
serve a whole test module (starting one costs a torch import) while tests stay plain functions. Every
call is recorded (request and response, as JSON) so a test run can leave a transcript behind.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from anyio.from_thread import BlockingPortal, start_blocking_portal
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import CallToolResult

CLI = "from clipaware.cli import main; main()"


class McpClient:
    def __init__(self, portal: BlockingPortal, session: ClientSession) -> None:
        self.portal, self.session = portal, session
        self.transcript: list[dict[str, Any]] = []

    def list_tools(self) -> dict[str, Any]:
        tools = self.portal.call(self.session.list_tools).tools
        return {tool.name: tool for tool in tools}

    def call(
        self, name: str, arguments: dict[str, Any] | None = None, progress: list | None = None, timeout: float = 300
    ) -> CallToolResult:
        async def callback(done: float, total: float | None, message: str | None) -> None:
            if progress is not None:
                progress.append((done, total, message))

        async def go() -> CallToolResult:
            return await self.session.call_tool(
                name, arguments or {}, read_timeout_seconds=timeout, progress_callback=callback
            )

        response = self.portal.call(go)
        self.transcript.append(
            {
                "request": {"method": "tools/call", "params": {"name": name, "arguments": arguments or {}}},
                "response": response.model_dump(mode="json", by_alias=True, exclude_none=True),
            }
        )
        return response

    def save_transcript(self, path: Path) -> None:
        path.write_text(json.dumps(self.transcript, indent=2, ensure_ascii=False) + "\n")


@contextmanager
def mcp_server(args: list[str], env: dict[str, str], cwd: Path, errlog: Path) -> Iterator[McpClient]:
    """Start ``clipaware mcp ARGS`` with ``env``, initialise a client session, and stop it afterwards."""
    with served(["clipaware", "mcp", *args], env, cwd, errlog) as client:
        yield client


@contextmanager
def served(command: list[str], env: dict[str, str], cwd: Path, errlog: Path) -> Iterator[McpClient]:
    """Start an MCP server given as a client would (``command`` and its arguments) and connect to it.

    ``clipaware`` runs as this interpreter's ``clipaware.cli.main`` (what the console script calls), so the
    code under test is the code that runs, installed or not.
    """
    if command[0] == "clipaware":
        executable, args = sys.executable, ["-c", CLI, *command[1:]]
    else:
        executable, args = command[0], command[1:]
    params = StdioServerParameters(command=executable, args=args, env=env, cwd=str(cwd))

    @asynccontextmanager
    async def connect():  # type: ignore[no-untyped-def]
        with errlog.open("w") as log:
            async with stdio_client(params, errlog=log) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                yield session

    with start_blocking_portal() as portal, portal.wrap_async_context_manager(connect()) as session:
        yield McpClient(portal, session)


def structured(result: CallToolResult) -> Any:
    """The tool's JSON document; the text block must say the same thing."""
    assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
    text = json.loads(result.content[0].text)  # type: ignore[union-attr]
    document = result.structured_content
    assert document == (text if isinstance(text, dict) else {"result": text})
    return text


def error_text(result: CallToolResult) -> str:
    """The one line of a tool error."""
    assert result.is_error, result
    text = result.content[0].text  # type: ignore[union-attr]
    assert "\n" not in text and "Traceback" not in text, text
    return text
