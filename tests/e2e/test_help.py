"""`--help` and `-h` work on every command and sub-command, and print help text literally.

Every usage error ends with "Try 'clipaware index -h' for help.", so a help page that crashes (help text read
as rich markup: `milvus://HOST:PORT[/COLLECTION]` was taken for a closing tag) leaves a user with nothing.
"""

from __future__ import annotations

import click
import pytest
import typer
from tests.helpers import run

from clipaware.cli import app


def _commands(group: click.Command, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found = [(path, group)]
    for name, command in getattr(group, "commands", {}).items():
        found += _commands(command, (*path, name))
    return found


COMMANDS = _commands(typer.main.get_command(app))


def test_the_tree_holds_every_command() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    expected = {"index", "search", "similar", "duplicates", "classify", "ask", "diagnose", "check", "doctor"}
    assert expected | {"models", "models pull", "eval", "eval shapes", "eval whatsup"} <= names


@pytest.mark.parametrize("flag", ["--help", "-h"])
@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) or "clipaware" for p, _ in COMMANDS])
def test_help_works_everywhere(path: tuple[str, ...], command: click.Command, flag: str, capsys, monkeypatch) -> None:
    code, out, err = run(capsys, monkeypatch, *path, flag)
    assert code == 0 and "Traceback" not in out + err and not err
    assert out.startswith(f"Usage: {' '.join(('clipaware', *path))} ")
    if command.help:  # the command's own summary line is there
        assert command.help.strip().splitlines()[0][:40] in " ".join(out.split())
    for param in command.params:  # every option's help is shown as written, brackets and all
        if isinstance(param, click.Option) and param.help and not param.hidden:
            assert param.help.split()[0] in out


def test_help_text_with_brackets_is_printed_literally(capsys, monkeypatch) -> None:
    for command in ("index", "search", "similar", "duplicates"):
        code, out, _ = run(capsys, monkeypatch, command, "--help")
        assert code == 0 and "milvus://HOST:PORT[/COLLECTION]" in out


def test_a_usage_error_points_at_help_that_works(capsys, monkeypatch) -> None:
    code, _, err = run(capsys, monkeypatch, "index")
    assert code == 2 and "clipaware index -h" in err
    code, out, _ = run(capsys, monkeypatch, "index", "-h")
    assert code == 0 and "Usage: clipaware index" in out


def test_shared_options_read_as_words_not_python_types(capsys, monkeypatch) -> None:
    _, out, _ = run(capsys, monkeypatch, "search", "-h")
    for shown in ("--db FILE", "-k, --top-k N", "-m, --model NAME", "--runtime torch|onnx", "--store LOCATION"):
        assert shown in out
    assert "<bool>" not in out and "<str>" not in out.split("Options:")[1].split("--candidates")[0]
