"""The HTTP door: ``clipaware serve``'s API and web page over one opened, warm library.

Thin like the CLI: each route builds nothing but the request's arguments, calls the same task the CLI
calls, and returns that task's result through its own ``to_dict()`` (so the JSON is the CLI's ``--json``
shape). What a long-lived door needs and a one-shot command does not lives in small modules beside the
app: :mod:`.security` (token, host and body-size guards), :mod:`.catalog` (index ids, the only way a
request names a file), :mod:`.work` (the bounded queue for model work), :mod:`.thumbnails` and
:mod:`.indexer` (index runs the page can follow).
"""

from __future__ import annotations

from clipaware.service.app import create_app

__all__ = ["create_app"]
