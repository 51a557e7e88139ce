"""clipaware over the Model Context Protocol: the CLIP-aware tools for AI agents (``clipaware mcp``, stdio).

A thin door like the CLI: :func:`build_server` takes an opened library and the folders the agent may read,
and registers tools that check input, call one task each and return its ``to_dict()``.
"""

from __future__ import annotations

from clipaware.mcp.server import build_server

__all__ = ["build_server"]
