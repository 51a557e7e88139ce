"""A value built on first use, once, however many threads ask: how loaded models are held and handed down.

A model is loaded when something first needs it (an unchanged re-index never loads one), then reused for
as long as its holder lives (a command, or a service for hours). The first thread that asks builds it
while the others wait; a failed build is remembered and raised again rather than retried by every
waiting thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    """``get()`` returns ``build()``'s result, calling ``build`` at most once (thread-safe)."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._error: Exception | None = None
        self._done = False
        self._lock = threading.Lock()

    def get(self) -> T:
        if self._done:  # the fast path once built: no lock
            return self._value  # type: ignore[return-value]
        with self._lock:
            if self._error is not None:
                raise self._error
            if not self._done:
                try:
                    self._value = self._build()
                except Exception as exc:
                    self._error = exc
                    raise
                self._done = True
            return self._value  # type: ignore[return-value]

    @property
    def loaded(self) -> bool:
        """Whether ``get()`` has built the value (it never builds on this question)."""
        return self._done

    @classmethod
    def of(cls, value: T) -> Lazy[T]:
        """An already built value, for callers that hold a loaded object."""
        lazy: Lazy[T] = cls(lambda: value)
        lazy.get()
        return lazy
