"""People over HTTP: ``GET /api/people`` and ``POST /api/people/photos`` answer exactly as the CLI's ``--json``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.service.conftest import cli

from clipaware.models.faces import faces_available

MISSING = faces_available()
PHOTOS = ("astronaut/original", "astronaut/scale0.75", "astronaut/crop(120, 30, 320, 230)", "negative/coffee")


@pytest.fixture(scope="module")
def face_folder(tmp_path_factory: pytest.TempPathFactory, tiny_clip_dir: Path) -> Path:
    """Real faces (the astronaut three times, a coffee cup), indexed with --faces, the astronaut named."""
    if MISSING is not None:
        pytest.skip(f"face models unavailable: {MISSING}")
    from clipaware.eval.faces import face_set

    root = tmp_path_factory.mktemp("people") / "photos"
    root.mkdir()
    for photo in face_set():
        if photo.name in PHOTOS:
            photo.image.save(root / (photo.name.split("/")[1].split("(")[0] + ".jpg"), quality=92)
    db = root / ".clipaware.db"
    assert cli("index", root, "--model", tiny_clip_dir, "--db", db, "--faces", "--json")[0] == 0
    code, out = cli("people", "--db", db, "--json")
    assert code == 0
    her = json.loads(out)["people"][0]
    assert cli("people", "name", str(her["id"]), "Eileen", "--db", db)[0] == 0
    return root


@pytest.fixture(scope="module")
def people_client(face_folder: Path) -> Iterator[object]:
    from fastapi.testclient import TestClient
    from tests.conftest import ENGINE

    from clipaware.library import Library
    from clipaware.service import create_app

    with Library.open(face_folder / ".clipaware.db", **ENGINE) as library:
        app = create_app(library, roots=[face_folder])
        with TestClient(app, base_url="http://127.0.0.1") as test_client:
            yield test_client


def _cli_json(*args: object) -> object:
    code, out = cli(*args)
    assert code == 0
    return json.loads(out)


def test_people_list_is_the_cli_json(people_client, face_folder: Path) -> None:
    response = people_client.get("/api/people")
    assert response.status_code == 200
    body = response.json()
    assert body == _cli_json("people", "--db", face_folder / ".clipaware.db", "--json")
    assert [p["name"] for p in body["people"]][:1] == ["Eileen"] and body["people"][0]["images"] == 3


@pytest.mark.parametrize("text", ["", "in space"])
def test_photos_of_a_named_person_are_the_cli_json_with_ids(people_client, face_folder: Path, text: str) -> None:
    from clipaware.service.catalog import image_id

    response = people_client.post("/api/people/photos", json={"name": "Eileen", "text": text, "k": 2})
    assert response.status_code == 200
    body = response.json()
    args = ["people", "photos", "Eileen", "-k", 2, "--db", face_folder / ".clipaware.db", "--json"]
    expected = _cli_json(*args, *(["--text", text] if text else []))
    assert [{k: v for k, v in hit.items() if k != "id"} for hit in body] == expected
    assert len(body) == 2 and all(hit["id"] == image_id(hit["path"]) for hit in body)
    assert {hit["ranked_by"] for hit in body} == {"clip" if text else "face"}
    assert "coffee" not in " ".join(hit["path"] for hit in body)  # her face, not CLIP's guess
    thumb = people_client.get(f"/api/images/{body[0]['id']}/thumbnail")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"


def test_an_unknown_name_is_a_404_saying_how_to_name_someone(people_client) -> None:
    response = people_client.post("/api/people/photos", json={"name": "Alice", "k": 5})
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "unknown person"
    assert "no person named 'Alice'" in body["detail"] and "clipaware people name" in body["detail"]


def test_bad_requests_are_refused(people_client) -> None:
    assert people_client.post("/api/people/photos", json={"name": "", "k": 5}).status_code == 422
    assert people_client.post("/api/people/photos", json={"name": "Eileen", "k": 0}).status_code == 422
    assert people_client.post("/api/people/photos", json={"name": "Eileen", "face": 1}).status_code == 422


def test_an_index_without_faces_is_a_409(client, served_folder: Path) -> None:
    response = client.post("/api/people/photos", json={"name": "Eileen"})
    assert response.status_code == 409
    assert response.json() == {
        "error": "no faces",
        "detail": "this index has no faces: run `clipaware index FOLDER --faces` first",
    }
    listing = client.get("/api/people")
    assert listing.status_code == 200
    assert listing.json() == _cli_json("people", "--db", served_folder / ".clipaware.db", "--json")
    assert listing.json()["people"] == []
