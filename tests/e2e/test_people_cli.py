"""`clipaware index --faces`, `people …`, and named people in `ask` / `search --routed`, through the real CLI."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from tests.helpers import run

from clipaware.models.faces import faces_available

MISSING = faces_available()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"face models unavailable: {MISSING}")

PHOTOS = ("astronaut/original", "astronaut/scale0.75", "astronaut/crop(120, 30, 320, 230)", "negative/coffee")


@pytest.fixture()
def env(tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("CLIPAWARE_MODEL", str(tiny_clip_dir))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return tiny_clip_dir


def _folder(root: Path, names=PHOTOS) -> Path:
    from clipaware.eval.faces import face_set

    root.mkdir(parents=True, exist_ok=True)
    for photo in face_set():
        if photo.name in names:
            photo.image.save(root / (photo.name.split("/")[1].split("(")[0] + ".jpg"), quality=92)
    return root


def _people(capsys, monkeypatch, db: Path) -> dict:
    code, out, err = run(capsys, monkeypatch, "people", "--db", db, "--json")
    assert code == 0, err
    return json.loads(out)


def test_faces_are_indexed_grouped_named_asked_and_searched(env, tmp_path, capsys, monkeypatch) -> None:
    folder = _folder(tmp_path / "photos")
    db = tmp_path / "x.db"
    code, out, err = run(capsys, monkeypatch, "index", folder, "--db", db, "--faces", "--json")
    assert code == 0, err
    faces = json.loads(out)["faces"]
    assert faces["detector"] == "hog" and faces["scanned"] == 4 and faces["skipped"] == []
    listing = _people(capsys, monkeypatch, db)
    her = listing["people"][0]  # most photos first: the astronaut, in all three of hers
    assert (her["name"], her["images"]) == (None, 3)
    assert listing["images_scanned"] == 4

    code, out, _ = run(capsys, monkeypatch, "people", "name", str(her["id"]), "[b]Eileen", "--db", db)
    assert code == 0 and "[b]Eileen" in out  # user text printed literally
    code, out, _ = run(capsys, monkeypatch, "people", "--db", db)
    assert "[b]Eileen" in out
    assert run(capsys, monkeypatch, "people", "name", "[b]Eileen", "Eileen Collins", "--db", db)[0] == 0
    code, out, err = run(capsys, monkeypatch, "ask", folder / "original.jpg", "is Eileen Collins in this photo?",
                         "--db", db, "--json")  # fmt: skip
    answer = json.loads(out)
    assert code == 0, err
    assert answer["answer"] is True and answer["routes"] == ["people"]
    evidence = answer["evidence"][0]
    assert evidence["distance"] < evidence["threshold"] == 0.6 and len(evidence["box"]) == 4
    code, out, _ = run(capsys, monkeypatch, "ask", folder / "coffee.jpg", "is Eileen Collins in this photo?",
                       "--db", db, "--json")  # fmt: skip
    assert json.loads(out)["answer"] is None  # no face at all: can't tell, not a CLIP guess

    # an unknown name is a clear answer, never a CLIP search for the word
    code, out, err = run(capsys, monkeypatch, "ask", folder / "original.jpg", "is Alice in this photo?", "--db", db)
    assert code == 2 and "no person named 'Alice'" in err and "clipaware people name" in err
    code, out, err = run(capsys, monkeypatch, "search", "Alice at the beach", "--routed", "--db", db)
    assert code == 2 and "no person named 'Alice'" in err

    code, out, err = run(capsys, monkeypatch, "search", "Eileen Collins in space", "--routed", "--db", db, "--json")
    assert code == 0, err
    found = json.loads(out)
    assert found["routes"] == ["people", "clip"]
    assert {Path(h["path"]).name for h in found["hits"]} == {"original.jpg", "scale0.75.jpg", "crop.jpg"}
    assert found["hits"][0]["evidence"][-1] == {"route": "clip", "text": "in space"}

    # naming survives a re-index: a changed photo and a new one of her join the named person
    _folder(folder, ("astronaut/mirror", "astronaut/jpeg50"))
    (folder / "original.jpg").unlink()
    code, out, err = run(capsys, monkeypatch, "index", folder, "--db", db, "--json")  # --faces is remembered
    assert code == 0, err
    report = json.loads(out)["faces"]
    assert report["scanned"] == 2 and report["grouping"]["joined_existing"] >= 2
    people = {p["name"]: p for p in _people(capsys, monkeypatch, db)["people"]}
    assert people["Eileen Collins"]["images"] == 4 and people["Eileen Collins"]["id"] == her["id"]

    # forget deletes every descriptor of hers
    code, out, err = run(capsys, monkeypatch, "people", "forget", "Eileen Collins", "--db", db, "--yes")
    assert code == 0, err
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT COUNT(*) FROM faces WHERE person_id = ?", (her["id"],)).fetchone()[0] == 0
    finally:
        conn.close()
    assert "Eileen Collins" not in {p["name"] for p in _people(capsys, monkeypatch, db)["people"]}


def test_index_without_faces_computes_none(env, tmp_path, capsys, monkeypatch) -> None:
    import clipaware.models.faces as faces

    def refuse(*a, **k):
        raise AssertionError("a face model was loaded without --faces")

    monkeypatch.setattr(faces, "load_face_model", refuse)
    monkeypatch.setattr(faces.DlibFaces, "__init__", refuse)
    folder = _folder(tmp_path / "photos")
    db = tmp_path / "x.db"
    code, out, err = run(capsys, monkeypatch, "index", folder, "--db", db, "--json")
    assert code == 0, err
    assert json.loads(out)["faces"] is None
    conn = sqlite3.connect(db)
    try:
        for table in ("faces", "face_scans", "people"):
            assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0
        assert conn.execute("SELECT value FROM meta WHERE key = 'faces'").fetchone() is None
    finally:
        conn.close()
    code, out, err = run(capsys, monkeypatch, "people", "--db", db)
    assert code == 0 and "index FOLDER --faces" in out
    # a name in a query of an index without faces is not answered by CLIP either
    code, out, err = run(capsys, monkeypatch, "ask", folder / "original.jpg", "is Eileen in this photo?", "--db", db)
    assert code == 0 and "can't tell" in out and "--faces" in out


def test_no_faces_turns_the_remembered_setting_off(env, tmp_path, capsys, monkeypatch) -> None:
    folder = _folder(tmp_path / "photos", ("negative/coffee",))
    db = tmp_path / "x.db"
    assert run(capsys, monkeypatch, "index", folder, "--db", db, "--faces")[0] == 0
    _folder(folder, ("astronaut/original",))
    code, out, _ = run(capsys, monkeypatch, "index", folder, "--db", db, "--no-faces", "--json")
    assert code == 0 and json.loads(out)["faces"] is None
    code, out, _ = run(capsys, monkeypatch, "index", folder, "--db", db, "--json")
    assert json.loads(out)["faces"] is None  # stays off


def test_how_many_faces_is_counted_by_the_face_detector(env, tmp_path, capsys, monkeypatch) -> None:
    folder = _folder(tmp_path / "photos", ("astronaut/crop(120, 30, 320, 230)", "negative/coffee"))
    for name, expected in (("crop.jpg", 1), ("coffee.jpg", 0)):
        code, out, err = run(capsys, monkeypatch, "ask", folder / name, "how many faces?", "--json")
        assert code == 0, err
        answer = json.loads(out)
        assert answer["answer"] == expected and answer["evidence"][0]["models"] == ["dlib hog"]
