"""``clipaware serve``: the HTTP API and the web page over one opened, warm library.

Opens the library once, loads its model before the first request (so no request pays for it), builds
the app (:func:`clipaware.service.create_app`) and runs it on uvicorn until Ctrl-C or SIGTERM; uvicorn
then finishes the requests in flight and the app stops an index run between files.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import typer

from clipaware.cli import output
from clipaware.cli.app import app
from clipaware.cli.options import (
    ANN_THRESHOLD_OPT,
    DB_OPT,
    DETECTOR_OPT,
    DEVICE_OPT,
    ONNX_CACHE_OPT,
    ORT_SPIN_OPT,
    PRECISION_OPT,
    RUNTIME_OPT,
    STORE_OPT,
)
from clipaware.errors import UsageError


@app.command("serve")
def serve_cmd(
    db: Path | None = DB_OPT,
    store: str | None = STORE_OPT,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; beyond loopback needs --token."),
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="Port to listen on."),
    token: str | None = typer.Option(
        None,
        "--token",
        envvar="CLIPAWARE_TOKEN",
        help="Require 'Authorization: Bearer TOKEN' on every route but /api/health (the page takes it once "
        "from the printed URL and keeps it in a cookie).",
    ),
    roots: list[Path] = typer.Option(
        [],
        "--root",
        help="A folder whose indexed images may be served and that 'index now' covers (repeatable; default: "
        "the folder holding the index).",
    ),
    max_upload: float = typer.Option(20.0, "--max-upload", min=0.01, help="Largest uploaded image, in MB."),
    detector: str = DETECTOR_OPT,
    queue: int = typer.Option(64, "--queue", min=1, help="Requests that may wait for the model before 503."),
    runtime: str | None = RUNTIME_OPT,
    precision: str | None = PRECISION_OPT,
    device: str | None = DEVICE_OPT,
    onnx_cache: Path | None = ONNX_CACHE_OPT,
    ort_spin: bool = ORT_SPIN_OPT,
    ann_threshold: int | None = ANN_THRESHOLD_OPT,
) -> None:
    """Serve the index: a JSON API (docs at /docs) and a search page, with the model loaded once."""
    import uvicorn

    from clipaware.library import Library
    from clipaware.service import create_app
    from clipaware.service.security import check_bind

    check_bind(host, token)
    for root in roots:
        if not root.is_dir():
            raise UsageError(f"--root {root}: not a folder")
    library = Library.open(
        store or db,
        runtime=runtime,
        precision=precision,
        device=device,
        onnx_cache=onnx_cache,
        ort_spin=ort_spin,
        ann_threshold=ann_threshold,
    )
    with library:
        output.serving_status(f"loading {library.model_name} …")
        library.model  # noqa: B018  (warm: loaded now, not by the first request)
        application = create_app(
            library,
            token=token,
            roots=roots,
            max_upload=int(max_upload * 1024 * 1024),
            hosts=(host,),
            detector=detector,
            model_queue=queue,
        )
        server = _server_class()(
            uvicorn.Config(application, host=host, port=port, log_level="warning", access_log=False, lifespan="on")
        )

        def announce() -> None:  # once the socket listens, print where (with the real port when --port 0)
            while not server.started and not server.should_exit:
                time.sleep(0.05)
            if server.started:
                bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
                shown = f"[{host}]" if ":" in host else host
                roots_served = application.state.service.catalog.roots
                output.serving(f"http://{shown}:{bound}/", token, library.location, roots_served)

        threading.Thread(target=announce, daemon=True).start()
        server.run()
    output.serving_status("stopped")


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, except that a stop asked for by Ctrl-C or SIGTERM ends the process normally.

        uvicorn finishes the requests in flight and runs the app's shutdown, then raises the signal again,
        so the process dies of it (exit 130/143); a stop the user asked for is not a failure, so here the
        command returns instead (exit 0).
        """

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server
