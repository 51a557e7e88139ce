"""The scale options as a user meets them: filters, --exact, --store milvus-lite:FILE, --ray parsing."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from PIL import Image

from clipaware.cli import main
from clipaware.cli.options import expand_ray_flag as _ray_flag


def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: object) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["clipaware", *map(str, args)])
    with pytest.raises(SystemExit) as info:
        main()
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out, captured.err


def paths(out: str) -> list[str]:
    return [h["path"] for h in json.loads(out)]


@pytest.fixture()
def dated_folder(photo_folder: Path) -> Path:
    """The photo folder plus two JPEGs with an EXIF date taken."""
    for name, when in (("old.jpg", "2019:05:01 12:00:00"), ("new.jpg", "2024:08:15 09:30:00")):
        img = Image.open(photo_folder / "coffee.jpg").resize((300, 200))
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = when
        buf = io.BytesIO()
        img.rotate(90 if name == "old.jpg" else 0).save(buf, "JPEG", exif=exif)
        (photo_folder / name).write_bytes(buf.getvalue())
    return photo_folder


@pytest.fixture()
def model_env(tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLIPAWARE_MODEL", str(tiny_clip_dir))
    monkeypatch.delenv("CLIPAWARE_DB", raising=False)


def test_filters_and_exact_from_the_command_line(dated_folder: Path, model_env: None, capsys, monkeypatch) -> None:
    db = dated_folder / ".clipaware.db"
    assert run(capsys, monkeypatch, "index", dated_folder, "--json")[0] == 0
    base = ("search", "a photo", "--db", db, "-k", "10", "--json")
    code, out, _ = run(capsys, monkeypatch, *base)
    everything = paths(out)
    assert code == 0 and len(everything) == 6
    assert paths(run(capsys, monkeypatch, *base, "--exact")[1]) == everything
    assert set(paths(run(capsys, monkeypatch, *base, "--glob", "*.png")[1])) == {
        str(dated_folder / "sub" / "chelsea.png"),
        str(dated_folder / "sub" / "camera.png"),
    }
    in_sub = paths(run(capsys, monkeypatch, *base, "--folder", dated_folder / "sub")[1])
    assert in_sub and all(p.startswith(str(dated_folder / "sub") + "/") for p in in_sub)
    assert paths(run(capsys, monkeypatch, *base, "--taken-after", "2020")[1]) == [str(dated_folder / "new.jpg")]
    assert paths(run(capsys, monkeypatch, *base, "--taken-before", "2019-12")[1]) == [str(dated_folder / "old.jpg")]
    wide = paths(run(capsys, monkeypatch, *base, "--min-width", "400")[1])
    assert str(dated_folder / "new.jpg") not in wide and str(dated_folder / "astronaut.jpg") in wide
    code, out, _ = run(capsys, monkeypatch, "similar", dated_folder / "new.jpg", "--db", db, "--folder", dated_folder)
    assert code == 0
    code, _, err = run(capsys, monkeypatch, *base, "--taken-after", "last week")
    assert code == 2 and "bad date" in err and len(err.strip().splitlines()) == 1


def test_milvus_lite_store_gives_the_same_answers(photo_folder: Path, model_env: None, capsys, monkeypatch) -> None:
    pytest.importorskip("milvus_lite", reason="Milvus Lite not installed")
    store = f"milvus-lite:{photo_folder.parent / 'milvus.db'}"
    code, out, _ = run(capsys, monkeypatch, "index", photo_folder, "--store", store, "--json")
    report = json.loads(out)
    assert code == 0 and report["added"] == 4 and report["db"].startswith("milvus-lite:")
    assert run(capsys, monkeypatch, "index", photo_folder, "--db", photo_folder / "x.db")[0] == 0
    for extra in ((), ("--glob", "*.png"), ("--exact",)):
        milvus = paths(run(capsys, monkeypatch, "search", "a cat", "--store", store, "--json", *extra)[1])
        sqlite = paths(run(capsys, monkeypatch, "search", "a cat", "--db", photo_folder / "x.db", "--json", *extra)[1])
        assert milvus == sqlite and milvus
    code, out, _ = run(capsys, monkeypatch, "index", photo_folder, "--store", store, "--json")
    assert json.loads(out)["unchanged"] == 4  # incremental against Milvus too


def test_ray_flag_takes_an_address_only_when_one_follows() -> None:
    assert _ray_flag(["index", "--ray", "photos"]) == ["index", "--ray", "local", "photos"]
    assert _ray_flag(["index", "photos", "--ray"]) == ["index", "photos", "--ray", "local"]
    assert _ray_flag(["index", "--ray", "10.0.0.5:6379", "p"]) == ["index", "--ray", "10.0.0.5:6379", "p"]
    assert _ray_flag(["index", "--ray", "ray://head:10001", "p"]) == ["index", "--ray", "ray://head:10001", "p"]
    assert _ray_flag(["index", "--ray", "--json", "p"]) == ["index", "--ray", "local", "--json", "p"]
