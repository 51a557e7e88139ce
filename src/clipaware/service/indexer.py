"""Index runs started from the service, one at a time, with progress the page can poll.

The run calls the same task as ``clipaware index`` over the configured roots, on its own thread (an
index run takes minutes; it must not hold the model queue that answers searches). Its state is a small
dict read by ``GET /api/index``. Stopping the server stops a run between files: every batch already
written is committed, the one in flight is not, so the index never holds a half-written row.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from clipaware.errors import ClipawareError, UsageError


class Stopped(Exception):
    """Raised inside a run's progress callback when the server is stopping."""


class IndexRuns:
    """Start index runs over ``roots`` with ``run(roots, progress)``; at most one at a time."""

    def __init__(self, roots: Sequence[Path], run: Callable[..., Any], on_done: Callable[[], None]) -> None:
        self.roots = tuple(roots)
        self._run = run
        self._on_done = on_done
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state: dict[str, Any] = {"running": False, "done": 0, "total": 0, "started_at": None,
                                       "finished_at": None, "report": None, "error": None}  # fmt: skip

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {**self._state, "roots": [str(r) for r in self.roots]}

    def start(self) -> dict[str, Any]:
        """Start a run, or raise :class:`RuntimeError` when one is running already."""
        if not self.roots:
            raise UsageError("no roots to index: start the server with --root DIR")
        with self._lock:
            if self._state["running"]:
                raise RuntimeError("an index run is already in progress")
            self._state = {"running": True, "done": 0, "total": 0, "started_at": time.time(),
                           "finished_at": None, "report": None, "error": None}  # fmt: skip
            self._thread = threading.Thread(target=self._work, name="clipaware-index", daemon=True)
            self._thread.start()
        return self.status()

    def _progress(self, done: int, total: int) -> None:
        if self._stop.is_set():
            raise Stopped()
        with self._lock:
            self._state["done"], self._state["total"] = done, total

    def _work(self) -> None:
        report: Any = None
        error: str | None = None
        try:
            report = self._run(self.roots, self._progress).to_dict()
        except Stopped:
            error = "stopped: the server is shutting down (batches written so far are kept)"
        except ClipawareError as exc:
            error = str(exc)
        except Exception as exc:  # a failed run is reported on the page, never a dead thread
            traceback.print_exc()
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            self._state.update(running=False, finished_at=time.time(), report=report, error=error)
            if report is not None:
                self._state["done"] = self._state["total"] = max(self._state["total"], self._state["done"])
        self._on_done()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask a run to stop at its next file and wait for it (server shutdown)."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
