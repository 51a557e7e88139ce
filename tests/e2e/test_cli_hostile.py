"""What the CLI prints about hostile names and inputs (issue 15): user text literally, never as rich markup or
emoji codes; file names that are not UTF-8 without a crash; a bug as one line unless --debug."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image
from skimage import data
from tests.helpers import run

NON_UTF8 = os.fsdecode(b"caf\xe9-\xff.jpg")


@pytest.fixture()
def env(tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLIPAWARE_MODEL", str(tiny_clip_dir))
    monkeypatch.delenv("CLIPAWARE_DB", raising=False)
    return tiny_clip_dir


@pytest.fixture()
def odd_folder(tmp_path: Path) -> Path:
    """Good and bad images whose names are markup, emoji codes, and bytes that are not UTF-8."""
    folder = tmp_path / "[bold]lib["  # with a file name "red]…", the path holds the closing tag "[/red]"
    folder.mkdir()
    Image.fromarray(data.astronaut()).save(folder / "red]x:cat:.jpg")
    Image.fromarray(data.chelsea()).save(folder / "[red]good.png")
    (folder / "[red]bad.jpg").write_text("not a picture")
    try:
        Image.fromarray(data.coffee()).save(folder / NON_UTF8, "JPEG")
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses names that are not UTF-8")
    return folder


def test_names_are_printed_literally(odd_folder: Path, env: Path, capsys, monkeypatch) -> None:
    code, out, err = run(capsys, monkeypatch, "index", odd_folder)
    assert code == 0, err
    assert f"skipped {odd_folder / '[red]bad.jpg'}: not an image" in out  # not "bad.jpg" in red
    assert "3 added" in out and str(odd_folder) in out

    monkeypatch.chdir(odd_folder)
    code, out, err = run(capsys, monkeypatch, "search", "a [bold]cat[/] :cat:", "-k", "5")
    assert code == 0, err
    assert "a [bold]cat[/] :cat:" in out  # the query, as typed
    assert str(odd_folder / "red]x:cat:.jpg") in out and "🐱" not in out  # no markup, no emoji substitution
    assert str(odd_folder / "[red]good.png") in out
    shown = os.fsencode(odd_folder / NON_UTF8).decode("utf-8", "backslashreplace")
    assert shown.endswith("caf\\xe9-\\xff.jpg") and shown in out  # shown as ls -b does, not a crash


def test_json_round_trips_a_non_utf8_name_to_its_bytes(odd_folder: Path, env: Path, capsys, monkeypatch) -> None:
    run(capsys, monkeypatch, "index", odd_folder)
    code, out, err = run(capsys, monkeypatch, "search", "coffee", "--db", odd_folder / ".clipaware.db", "--json")
    assert code == 0, err
    out.encode("utf-8")  # valid UTF-8 text, whatever the names
    paths = [hit["path"] for hit in json.loads(out)]
    assert os.fsencode(odd_folder) + b"/caf\xe9-\xff.jpg" in [os.fsencode(p) for p in paths]


def test_a_bug_is_one_line_pointing_at_debug(photo_folder: Path, env: Path, capsys, monkeypatch) -> None:
    import clipaware.tasks.indexing as indexing

    def broken(*args, **kwargs):
        raise TypeError("unsupported operand [/] for +: 'int' and 'NoneType'")

    monkeypatch.setattr(indexing, "index_paths", broken)
    code, out, err = run(capsys, monkeypatch, "index", photo_folder)
    assert code == 1 and out == ""
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "unexpected TypeError in index_cmd" in err and "[/]" in err and "--debug" in err

    monkeypatch.setattr("sys.argv", ["clipaware", "index", str(photo_folder), "--debug"])
    from clipaware.cli import main

    with pytest.raises(TypeError, match="unsupported operand"):
        main()


def test_debug_after_double_dash_is_query_text() -> None:
    from clipaware.cli.options import take_debug_flag

    assert take_debug_flag(["search", "cats", "--debug"]) == (["search", "cats"], True)
    assert take_debug_flag(["search", "--", "--debug"]) == (["search", "--", "--debug"], False)
    assert take_debug_flag(["check", "dogs"]) == (["check", "dogs"], False)


def test_json_never_prints_nan() -> None:
    from clipaware.cli.output import _json

    assert json.loads(_json([{"path": "a", "score": float("nan")}, {"s": float("inf")}], None)) == [
        {"path": "a", "score": None},
        {"s": None},
    ]


def test_ask_with_a_missing_gallery_says_so_before_any_model(tmp_path: Path, capsys, monkeypatch) -> None:
    image = tmp_path / "a.png"
    Image.new("RGB", (8, 8)).save(image)
    monkeypatch.setenv("CLIPAWARE_MODEL", str(tmp_path / "no-model-here"))  # loading anything would fail otherwise
    code, out, err = run(capsys, monkeypatch, "ask", image, "who is this actor?", "--gallery", tmp_path / "nope")
    assert code == 2 and out == "" and "Traceback" not in err
    said = " ".join(err.replace("│", " ").split())  # rich boxes and wraps usage errors
    assert "Invalid value for '--gallery'" in said and "does not exist" in said
