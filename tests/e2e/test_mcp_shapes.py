"""``clipaware mcp`` on the shapes world: the trained shapes CLIP and the shapes detector, answers checked
against each scene's ground truth and against the CLI's ``--json`` for the same input."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("mcp")

from tests.e2e.mcp_client import McpClient, mcp_server, structured
from tests.helpers import run

from clipaware.eval.shapes import SHAPES_CLIP_PATH
from clipaware.eval.shapes.scenes import ObjectSpec, make_scene

SCENES = {
    "three-red-circles.png": [ObjectSpec("circle", "red", "small")] * 3
    + [ObjectSpec("circle", "blue", "small"), ObjectSpec("star", "red", "small")],
    "one-red-circle.png": [ObjectSpec("circle", "red", "small"), ObjectSpec("square", "green", "small")],
    "square-left-of-star.png": [
        ObjectSpec("square", "green", "large", (0, 0, 100, 224)),
        ObjectSpec("star", "yellow", "large", (124, 0, 224, 224)),
    ],
}


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("mcp-shapes")
    scenes, home = base / "scenes", base / "home"
    scenes.mkdir()
    home.mkdir()
    for seed, (name, specs) in enumerate(SCENES.items()):
        make_scene(np.random.default_rng(seed), specs).image.save(scenes / name)
    env = {k: v for k, v in os.environ.items() if k != "CLIPAWARE_DB"}
    env.update(
        HOME=str(home),
        HF_HUB_OFFLINE="1",
        CLIPAWARE_MODEL=str(SHAPES_CLIP_PATH),
        CLIPAWARE_RUNTIME="torch",
        CLIPAWARE_PRECISION="fp32",
        OMP_NUM_THREADS="1",
    )
    return {"base": base, "scenes": scenes, "db": scenes / ".clipaware.db", "env": env}


@pytest.fixture(scope="module")
def client(place: dict[str, Any]) -> Iterator[McpClient]:
    # No --db: the index goes to .clipaware.db in the first root, made by index_folder.
    args = ["--root", str(place["scenes"]), "--detector", "shapes"]
    with mcp_server(args, place["env"], place["base"], place["base"] / "server.log") as session:
        yield session
        session.save_transcript(place["base"] / "transcript.json")
        if os.environ.get("CLIPAWARE_MCP_TRANSCRIPT"):
            session.save_transcript(Path(os.environ["CLIPAWARE_MCP_TRANSCRIPT"]).with_suffix(".shapes.json"))


@pytest.fixture()
def cli(place, capsys, monkeypatch):
    for key in ("HOME", "HF_HUB_OFFLINE", "CLIPAWARE_MODEL", "CLIPAWARE_RUNTIME", "CLIPAWARE_PRECISION"):
        monkeypatch.setenv(key, place["env"][key])
    monkeypatch.delenv("CLIPAWARE_DB", raising=False)

    def call(*args: Any) -> Any:
        code, out, err = run(capsys, monkeypatch, *args, "--json")
        assert code == 0, err
        return json.loads(out)

    return call


def test_ask_counts_with_boxes_like_the_cli(client, cli, place) -> None:
    image = str(place["scenes"] / "three-red-circles.png")
    answer = structured(client.call("ask_image", {"image": image, "question": "how many red circles?"}))
    assert answer["answer"] == 3 and answer["routes"] == ["count"]
    counted = answer["evidence"][0]["counted"]
    assert len(counted) == 3
    for item in counted:
        x0, y0, x1, y1 = item["box"]
        assert 0 <= x0 < x1 <= 224 and 0 <= y0 < y1 <= 224
    assert answer == cli("ask", image, "how many red circles?", "--detector", "shapes")


def test_ask_relations_like_the_cli(client, cli, place) -> None:
    image = str(place["scenes"] / "square-left-of-star.png")
    for question, expected in (
        ("a green square to the left of a yellow star", True),
        ("a green square to the right of a yellow star", False),
    ):
        answer = structured(client.call("ask_image", {"image": image, "question": question}))
        assert answer["answer"] is expected and answer["routes"] == ["relate"]
        assert answer == cli("ask", image, question, "--detector", "shapes")


def test_routed_search_finds_the_counted_scene(client, cli, place) -> None:
    report = structured(client.call("index_folder", {"path": str(place["scenes"])}))
    assert report["added"] == len(SCENES) and report["db"] == str(place["db"])
    query = "three red circles"
    plain = structured(client.call("search_images", {"query": query, "k": 3}))
    assert plain["check"]["clip_ok"] is False and "routed=true" in plain["note"]
    assert plain["hits"] == cli("search", query, "-k", "3", "--db", place["db"])

    routed = structured(client.call("search_images", {"query": query, "k": 3, "routed": True}))
    assert [Path(hit["path"]).name for hit in routed["hits"]] == ["three-red-circles.png"]
    assert routed["hits"][0]["answer"] is True
    expected = cli("search", query, "--routed", "-k", "3", "--detector", "shapes", "--db", place["db"])
    assert {k: v for k, v in routed.items() if k not in ("check", "note")} == expected
