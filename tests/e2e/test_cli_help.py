"""Every command documents itself: ``--help`` works everywhere and names the variables its options read."""

from __future__ import annotations

import pytest
from tests.helpers import run

COMMANDS = {
    (): (),
    ("index",): ("CLIPAWARE_DB", "CLIPAWARE_MODEL", "CLIPAWARE_RUNTIME", "CLIPAWARE_PRECISION", "CLIPAWARE_DEVICE",
                 "CLIPAWARE_ONNX_CACHE", "CLIPAWARE_ANN_THRESHOLD"),
    ("search",): ("CLIPAWARE_DB", "CLIPAWARE_MODEL", "CLIPAWARE_RUNTIME", "CLIPAWARE_PRECISION", "CLIPAWARE_DEVICE",
                  "CLIPAWARE_ONNX_CACHE", "CLIPAWARE_ANN_THRESHOLD"),
    ("similar",): ("CLIPAWARE_DB", "CLIPAWARE_RUNTIME", "CLIPAWARE_ANN_THRESHOLD"),
    ("duplicates",): ("CLIPAWARE_DB",),
    ("classify",): ("CLIPAWARE_MODEL", "CLIPAWARE_RUNTIME", "CLIPAWARE_PRECISION", "CLIPAWARE_DEVICE"),
    ("ask",): ("CLIPAWARE_MODEL", "CLIPAWARE_RUNTIME", "CLIPAWARE_PRECISION", "CLIPAWARE_DEVICE"),
    ("diagnose",): ("CLIPAWARE_MODEL", "CLIPAWARE_RUNTIME", "CLIPAWARE_PRECISION", "CLIPAWARE_DEVICE"),
    ("check",): (),
    ("models",): ("CLIPAWARE_MODEL",),
    ("models", "pull"): (),
    ("doctor",): ("CLIPAWARE_MODEL", "CLIPAWARE_RUNTIME", "CLIPAWARE_PRECISION", "CLIPAWARE_ONNX_CACHE"),
    ("eval", "shapes"): ("CLIPAWARE_RUNTIME", "CLIPAWARE_PRECISION", "CLIPAWARE_DEVICE"),
    ("eval", "countbench"): ("CLIPAWARE_MODEL", "CLIPAWARE_RUNTIME", "CLIPAWARE_PRECISION"),
}  # fmt: skip


@pytest.mark.parametrize(("command", "variables"), COMMANDS.items(), ids=lambda c: " ".join(c) or "clipaware")
def test_help_works_and_names_each_variable(command, variables, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one option per line, so a variable name is never wrapped
    code, out, err = run(capsys, monkeypatch, *command, "--help")
    assert code == 0 and "Traceback" not in err and "Usage" in out
    for variable in variables:
        assert variable in out, (command, variable)
    if command in (("index",), ("search",), ("similar",), ("duplicates",)):  # help text is printed, not parsed
        assert "milvus://HOST:PORT[/COLLECTION]" in out
