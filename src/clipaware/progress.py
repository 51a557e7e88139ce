"""One progress bar for everything long (embedding, indexing): rich, on stderr, only on a terminal.

Tasks report through a plain ``report(done, total)`` callable, so they never depend on how (or
whether) progress is shown, and stdout stays clean for ``--json``. The total may grow as work is found.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Report = Callable[[int, int], None]


def _ignore(done: int, total: int) -> None:
    return None


@contextmanager
def progress_bar(enabled: bool, label: str) -> Iterator[Report]:
    """Yield ``report(done, total)``; draws a transient bar when enabled and stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield _ignore
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)
