"""Errors a user can meet.

Every failure that a person can cause or fix (a missing model, a bad image, an index built with another
model) is one of these types. The CLI prints ``str(error)`` as a single line and exits with
``error.exit_code``; no traceback reaches the user. Library callers can catch :class:`ClipawareError`.
"""

from __future__ import annotations


class ClipawareError(Exception):
    """Base class: a message that says what went wrong and what to do next."""

    exit_code: int = 1


class UsageError(ClipawareError):
    """The request itself is wrong (bad option value, empty query, unknown label set)."""

    exit_code = 2


class ModelNotAvailableError(ClipawareError):
    """A model is neither in the local cache nor reachable: says how to get it."""

    exit_code = 2


class ImageLoadError(ClipawareError):
    """An image could not be decoded; ``reason`` is the short, per-file explanation used in skip reports."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class IndexUnavailableError(ClipawareError):
    """The index database is missing, from a newer clipaware, or otherwise unusable."""

    exit_code = 2


class ModelMismatchError(ClipawareError):
    """A query asked for a model other than the one the index was built with."""

    exit_code = 2


class UnknownPersonError(UsageError):
    """A query or command named a person the index does not know (never answered by CLIP instead)."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"no person named {name!r} in this index; name one with `clipaware people name ID {name!r}` "
            f"(`clipaware people` lists the IDs)"
        )
        self.name = name
