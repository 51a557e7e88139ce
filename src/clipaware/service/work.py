"""A bounded queue for work that must not pile up: model calls and image decoding.

A warm model answers one query in milliseconds, but a burst of requests on a small machine would
otherwise queue without limit inside the server (memory grows, every answer gets slower, clients time
out and retry). Instead each queue runs at most ``threads`` jobs at once and holds at most ``capacity``
jobs in all; one more is refused at once with :class:`Busy` (the app answers 503 with ``Retry-After``).

The model queue has one thread on purpose: the store's SQLite connection and its cached ANN/exact
matrices are then touched by one thread only, and the engine already uses every core for one batch.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class Busy(Exception):
    """The queue is full: try again after ``retry_after`` seconds."""

    def __init__(self, name: str, retry_after: int = 1) -> None:
        super().__init__(f"the server is busy ({name} queue full); retry in {retry_after} s")
        self.retry_after = retry_after


class WorkQueue:
    """At most ``threads`` jobs running and ``capacity`` jobs admitted; callers await their job's result."""

    def __init__(self, name: str, *, threads: int = 1, capacity: int = 64) -> None:
        if threads < 1 or capacity < 1:
            raise ValueError("a work queue needs at least one thread and room for one job")
        self.name = name
        self.capacity = capacity
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"clipaware-{name}")
        self._admitted = 0  # only touched on the event loop's thread: no lock needed

    @property
    def admitted(self) -> int:
        return self._admitted

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` on the queue's threads, or raise :class:`Busy` at once when the queue is full."""
        if self._admitted >= self.capacity:
            raise Busy(self.name)
        self._admitted += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))
        finally:
            self._admitted -= 1

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` on the queue's threads from synchronous code and wait for it (startup, shutdown)."""
        return self._executor.submit(fn, *args, **kwargs).result()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
