"""The MCP people tools answer as ``clipaware people --json`` and ``people photos NAME --json`` do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.mcp_client import McpClient, assert_same_hits, error_text, mcp_server, structured
from tests.e2e.service.conftest import cli
from tests.e2e.test_mcp import _environment

from clipaware.models.faces import faces_available

MISSING = faces_available()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"face models unavailable: {MISSING}")
PHOTOS = ("astronaut/original", "astronaut/scale0.75", "astronaut/crop(120, 30, 320, 230)", "negative/coffee")


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory, tiny_clip_dir: Path) -> dict[str, Any]:
    """Real faces (the astronaut three times, a coffee cup) indexed with --faces and the astronaut named."""
    from clipaware.eval.faces import face_set

    base = tmp_path_factory.mktemp("mcp-people")
    photos, home = base / "photos", base / "home"
    photos.mkdir()
    home.mkdir()
    for photo in face_set():
        if photo.name in PHOTOS:
            photo.image.save(photos / (photo.name.split("/")[1].split("(")[0] + ".jpg"), quality=92)
    env = _environment(home, tiny_clip_dir)
    db, plain = base / "faces.db", base / "plain.db"
    assert cli("index", photos, "--db", db, "--faces", "--json", env=env)[0] == 0
    assert cli("index", photos, "--db", plain, "--json", env=env)[0] == 0
    her = json.loads(cli("people", "--db", db, "--json", env=env)[1])["people"][0]
    assert cli("people", "name", str(her["id"]), "Eileen", "--db", db, env=env)[0] == 0
    return {"base": base, "photos": photos, "db": db, "plain": plain, "env": env}


def _served(place: dict[str, Any], db: Path) -> Any:
    args = ["--root", str(place["photos"]), "--db", str(db), "--detector", "shapes"]
    return mcp_server(args, place["env"], place["base"], place["base"] / f"{db.stem}.log")


@pytest.fixture(scope="module")
def client(place: dict[str, Any]) -> Iterator[McpClient]:
    with _served(place, place["db"]) as session:
        yield session


def _printed(place: dict[str, Any], *args: object) -> Any:
    code, out = cli(*args, "--db", place["db"], "--json", env=place["env"])
    assert code == 0
    return json.loads(out)


def test_the_people_tools_are_described_for_agents(client) -> None:
    tools = client.list_tools()
    photos = tools["find_person_photos"]
    assert "never CLIP" in photos.description and "list_people" in photos.description
    assert "clipaware people name" in tools["list_people"].description
    assert photos.input_schema["required"] == ["name"]
    assert set(photos.output_schema["required"]) == {"name", "text", "hits"}
    assert set(tools["list_people"].output_schema["required"]) >= {"people", "faces", "images_scanned"}


def test_list_people_is_the_cli_json(client, place) -> None:
    served = structured(client.call("list_people", {}))
    assert served == _printed(place, "people")
    assert served["people"][0]["name"] == "Eileen" and served["people"][0]["images"] == 3


def test_photos_of_a_named_person_are_the_cli_json(client, place) -> None:
    served = structured(client.call("find_person_photos", {"name": "Eileen", "k": 2}))
    assert served == {"name": "Eileen", "text": "", "hits": _printed(place, "people", "photos", "Eileen", "-k", 2)}
    assert len(served["hits"]) == 2 and {h["ranked_by"] for h in served["hits"]} == {"face"}
    ranked = structured(client.call("find_person_photos", {"name": "Eileen", "text": "in space"}))
    printed = _printed(place, "people", "photos", "Eileen", "--text", "in space")
    assert_same_hits(ranked["hits"], printed)  # text encoded in two processes: scores equal to 1e-5
    assert [h["faces"] for h in ranked["hits"]] == [h["faces"] for h in printed]
    assert len(printed) == 3 and {h["ranked_by"] for h in printed} == {"clip"}
    assert all("coffee" not in h["path"] for h in printed)  # her face, not CLIP's guess


def test_an_unknown_name_is_a_one_line_error_saying_how_to_name_someone(client) -> None:
    message = error_text(client.call("find_person_photos", {"name": "Alice"}))
    assert "no person named 'Alice'" in message and "clipaware people name" in message
    assert structured(client.call("list_people", {}))["people"]  # the next call works


def test_an_index_without_faces_says_how_to_get_them(place) -> None:
    with _served(place, place["plain"]) as session:
        message = error_text(session.call("find_person_photos", {"name": "Eileen"}))
        assert "has no faces" in message and "--faces" in message
        assert structured(session.call("list_people", {}))["people"] == []
