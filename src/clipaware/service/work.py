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
import threading
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


class WaitingTexts:
    """Query texts whose searches wait in the model queue, embedded together by whichever runs first.

    Under load, many text searches wait behind each other for the one model thread. The first of them to
    run embeds every text then waiting in one batch (a batch of 16 short texts costs a few single ones),
    which fills the model's text cache; the searches behind it then find their vector there and only
    search. The search task itself is unchanged: it still encodes its text, and gets it from the cache.
    """

    def __init__(self) -> None:
        self._texts: list[str] = []
        self._lock = threading.Lock()

    def add(self, text: str) -> None:
        with self._lock:
            self._texts.append(text)

    def discard(self, text: str) -> None:
        with self._lock:
            if text in self._texts:
                self._texts.remove(text)

    def embed(self, model: Any) -> None:
        """Embed every waiting text in one batch (on the model thread, before a search runs)."""
        with self._lock:
            batch, self._texts = self._texts, []
        if len(batch) > 1:
            model.encode_texts(batch)
