"""A value built on first use, once, however many threads ask: how loaded models are held and handed down.

A model is loaded when something first needs it (an unchanged re-index never loads one), then reused for
as long as its holder lives (a command, or a service for hours). The first thread that asks builds it
while the others wait; a failed build is remembered and raised again rather than retried by every
waiting thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

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


class Shelf:
    """Values built once per key, thread-safe: the detectors and feature models an opened library lends out.

    Two toolkits of one library (say ``--detector auto`` and ``--detector detr``) then share one DETR.
    """

    def __init__(self) -> None:
        self._items: dict[Hashable, Lazy[Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        with self._lock:
            lazy = self._items.get(key)
            if lazy is None:
                lazy = self._items[key] = Lazy(build)
        return lazy.get()  # built outside the shelf's lock: other keys are not held up

    def __contains__(self, key: Hashable) -> bool:
        lazy = self._items.get(key)
        return lazy is not None and lazy.loaded
