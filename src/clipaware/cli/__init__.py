"""The command line: thin doors that open objects, call one task and print its result.

No logic lives here. Each command module registers its commands on the one :data:`app`; each command
builds what it needs once (an opened :class:`~clipaware.library.Library`, or a loaded model), calls one
task, and prints the result through :mod:`clipaware.cli.output`, pretty (for people) or as JSON
(``--json``, for programs). Errors of type :class:`~clipaware.errors.ClipawareError` become a single line
on stderr and a non-zero exit code.
"""

from __future__ import annotations

import sqlite3
import sys

from clipaware.cli import ask_cmds, check, classify, eval, library_cmds, models, output  # noqa: F401  (they register)
from clipaware.cli.app import app
from clipaware.cli.options import expand_ray_flag
from clipaware.errors import ClipawareError

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point: run the app, turning our errors into one line and an exit code."""
    output.show_notices()
    try:
        # standalone: typer/click handle --help, usage errors and exit codes; the name is fixed so that help
        # and usage errors say `clipaware` however it was started (python -m clipaware.cli, a test)
        app(args=expand_ray_flag(sys.argv[1:]), prog_name="clipaware")
    except ClipawareError as exc:
        output.error(exc)
        sys.exit(exc.exit_code)
    except (OSError, sqlite3.Error) as exc:  # the environment, not a bug: read-only folder, disk full, locked db
        output.error(exc)
        sys.exit(1)
    except KeyboardInterrupt:
        output.interrupted()
        sys.exit(130)
