"""Start-up is the latency an agent feels: the CLI imports heavy libraries only where a command needs them.

Each check runs in a fresh interpreter (the test process has long since imported everything) and lists
which heavy modules a command left in ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("numpy", "torch", "transformers", "onnx", "onnxruntime", "faiss", "cv2", "scipy", "pymilvus", "ray", "PIL")

PROBE = """
import contextlib, io, json, sys
from clipaware.cli import main
args, heavy = json.loads(sys.argv[1]), json.loads(sys.argv[2])
if args is not None:
    sys.argv = ["clipaware", *args]
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            main()
        except SystemExit as exit:
            assert not exit.code, exit.code
print(json.dumps([name for name in heavy if name in sys.modules]))
"""


def _heavy_after(args: list[str] | None) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CLIPAWARE_DB": os.devnull},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_cli_imports_nothing_heavy() -> None:
    assert _heavy_after(None) == []


@pytest.mark.parametrize(
    "args", [["--help"], ["check", "two dogs left of a red car"], ["check", "a cat", "--json"], ["search", "--help"]]
)
def test_check_and_help_import_neither_numpy_nor_torch(args: list[str]) -> None:
    assert _heavy_after(args) == []
