"""``clipaware mcp`` end to end: the MCP SDK's own client over stdio against a real server process.

One server (tiny saved CLIP, shapes detector so routes run offline) serves the whole module. Every tool's
structured result is compared with the CLI's ``--json`` for the same input; bad input of each kind must
come back as a one-line ``isError`` result, and the next call must still work; paths outside ``--root``
must be refused without being opened. The calls are saved as a transcript (``CLIPAWARE_MCP_TRANSCRIPT``
names a file to copy it to).
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

from tests.e2e.mcp_client import McpClient, assert_same_hits, error_text, mcp_server, structured
from tests.helpers import run

TOOLS = {
    "check_query",
    "search_images",
    "ask_image",
    "classify_image",
    "find_similar",
    "find_duplicates",
    "index_folder",
    "doctor",
    "list_people",
    "find_person_photos",
}


def _environment(home: Path, model: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CLIPAWARE_DB",)}
    env.update(
        HOME=str(home),
        HF_HUB_OFFLINE="1",
        CLIPAWARE_MODEL=str(model),
        CLIPAWARE_RUNTIME="torch",
        CLIPAWARE_PRECISION="fp32",
        OMP_NUM_THREADS="1",
    )
    return env


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory, tiny_clip_dir: Path) -> dict[str, Any]:
    """Photos under the root (one re-encoded copy, one truncated file), and things outside it."""
    from PIL import Image
    from skimage import data

    base = tmp_path_factory.mktemp("mcp")
    photos, outside, home = base / "photos", base / "outside", base / "home"
    for folder in (photos / "sub", outside, home):
        folder.mkdir(parents=True)
    Image.fromarray(data.astronaut()).save(photos / "astronaut.jpg", quality=90)
    Image.fromarray(data.coffee()).save(photos / "coffee.jpg", quality=95)
    Image.fromarray(data.coffee()).save(photos / "sub" / "coffee-copy.jpg", quality=70)
    Image.fromarray(data.chelsea()).save(photos / "sub" / "chelsea.png")
    whole = (photos / "astronaut.jpg").read_bytes()
    (photos / "broken.jpg").write_bytes(whole[: len(whole) // 3])
    (photos / "notes.txt").write_text("not an image")
    Image.fromarray(data.rocket()).save(outside / "secret.jpg")
    os.mkfifo(outside / "pipe.jpg")  # opening it would block: a refused path must never be opened
    db = base / "index.db"
    return {
        "base": base,
        "photos": photos,
        "outside": outside,
        "db": db,
        "env": _environment(home, tiny_clip_dir),
        "model": tiny_clip_dir,
    }


@pytest.fixture(scope="module")
def client(place: dict[str, Any]) -> Iterator[McpClient]:
    args = ["--root", str(place["photos"]), "--db", str(place["db"]), "--detector", "shapes"]
    with mcp_server(args, place["env"], place["base"], place["base"] / "server.log") as session:
        yield session
        session.save_transcript(place["base"] / "transcript.json")
        if os.environ.get("CLIPAWARE_MCP_TRANSCRIPT"):
            shutil.copy(place["base"] / "transcript.json", os.environ["CLIPAWARE_MCP_TRANSCRIPT"])


@pytest.fixture(scope="module")
def indexed(client: McpClient, place: dict[str, Any]) -> tuple[dict[str, Any], list]:
    """index_folder once through MCP, with its progress notifications."""
    progress: list = []
    report = structured(client.call("index_folder", {"path": str(place["photos"])}, progress=progress))
    return report, progress


@pytest.fixture()
def cli(place: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """The CLI in-process, in the server's environment; returns its parsed ``--json``."""
    for key, value in place["env"].items():
        if key.startswith(("CLIPAWARE_", "HF_")) or key == "HOME":
            monkeypatch.setenv(key, value)
    monkeypatch.delenv("CLIPAWARE_DB", raising=False)

    def call(*args: Any) -> Any:
        code, out, err = run(capsys, monkeypatch, *args, "--json")
        assert code in (0, 1), err
        return json.loads(out)

    return call


def test_tools_are_listed_with_typed_schemas_and_agent_descriptions(client: McpClient) -> None:
    tools = client.list_tools()
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert "Returns" in (tool.description or ""), tool.name
        assert "\n    " not in tool.description, f"{tool.name}: the description keeps the docstring's indent"
        assert tool.output_schema["type"] == "object" and tool.output_schema["required"], tool.name
    search = tools["search_images"].input_schema["properties"]
    assert search["k"]["type"] == "integer" and search["k"]["minimum"] == 1 and search["k"]["maximum"] == 200
    assert search["routed"]["type"] == "boolean"
    labels = tools["classify_image"].input_schema["properties"]["labels"]
    assert labels["type"] == "array" and labels["minItems"] == 1
    assert tools["check_query"].input_schema["required"] == ["query"]
    assert tools["check_query"].input_schema["properties"]["query"]["maxLength"] == 10_000
    assert "ask_image" in tools["check_query"].description  # the decision tree points onward
    assert tools["check_query"].annotations.read_only_hint is True
    assert tools["index_folder"].annotations.read_only_hint is False
    assert set(tools["ask_image"].output_schema["required"]) == {
        "query", "image", "answer", "routes", "evidence", "notes", "analysis"
    }  # fmt: skip


def test_index_folder_reports_progress_and_matches_the_cli(indexed, place, cli) -> None:
    report, progress = indexed
    assert report["added"] == 4 and report["db"] == str(place["db"])
    assert {Path(s["path"]).name for s in report["skipped"]} == {"broken.jpg"}
    assert progress and progress[-1][0] == progress[-1][1]  # the last notification says all done
    again = cli("index", place["photos"], "--db", place["db"])
    assert set(again) == set(report)
    assert again["unchanged"] == report["added"] and again["added"] == 0
    assert again["skipped"] == report["skipped"]


@pytest.mark.parametrize("query", ["a beach at sunset", "three dogs on a sofa", "a street with no cars"])
def test_check_query_matches_the_cli(client, cli, query: str) -> None:
    assert structured(client.call("check_query", {"query": query})) == cli("check", query)


def test_search_matches_the_cli_and_carries_the_verdict(client, cli, indexed, place) -> None:
    found = structured(client.call("search_images", {"query": "a cup of coffee", "k": 3}))
    assert_same_hits(found["hits"], cli("search", "a cup of coffee", "-k", "3", "--db", place["db"]))
    assert len(found["hits"]) == 3 and found["check"]["clip_ok"] is True and found["note"] is None

    counting = structured(client.call("search_images", {"query": "three dogs", "k": 2}))
    assert counting["check"]["clip_ok"] is False
    assert [lim["kind"] for lim in counting["check"]["limitations"]] == ["counting"]
    assert "routed=true" in counting["note"]

    image = str(place["photos"] / "coffee.jpg")
    by_image = structured(client.call("search_images", {"image": image, "k": 2}))
    assert by_image["hits"] == cli("search", "--image", image, "-k", "2", "--db", place["db"])
    assert by_image["check"] is None


def test_routed_search_matches_the_cli(client, cli, indexed, place) -> None:
    query = "two red circles"
    found = structured(client.call("search_images", {"query": query, "k": 3, "routed": True}))
    expected = cli("search", query, "--routed", "-k", "3", "--detector", "shapes", "--db", place["db"])
    assert {k: v for k, v in found.items() if k not in ("check", "note")} == expected
    assert found["check"]["clip_ok"] is False and "routes kept" in found["note"]


def test_similar_and_duplicates_match_the_cli(client, cli, indexed, place) -> None:
    image = str(place["photos"] / "coffee.jpg")
    similar = structured(client.call("find_similar", {"image": image, "k": 3}))
    assert similar["hits"] == cli("similar", image, "-k", "3", "--db", place["db"])
    assert image not in [h["path"] for h in similar["hits"]]

    groups = structured(client.call("find_duplicates", {"threshold": 0.9}))
    assert groups["groups"] == cli("duplicates", "--threshold", "0.9", "--db", place["db"])


def test_classify_matches_the_cli(client, cli, place) -> None:
    image = str(place["photos"] / "coffee.jpg")
    labels = ["coffee", "astronaut", "cat"]
    for multi in (False, True):
        found = structured(client.call("classify_image", {"image": image, "labels": labels, "multi_label": multi}))
        flags = ["--multi-label"] if multi else []
        assert [found] == cli("classify", image, "--labels", ",".join(labels), *flags)
    # A relative path is taken under the first root.
    relative = structured(client.call("classify_image", {"image": "coffee.jpg", "labels": labels}))
    assert relative["image"] == image


def test_ask_matches_the_cli_and_draws_its_boxes(client, cli, place) -> None:
    from PIL import Image

    image = str(place["photos"] / "astronaut.jpg")
    question = "how many red circles?"
    result = client.call("ask_image", {"image": image, "question": question, "thumbnail": True})
    answer = structured(result)
    assert answer == cli("ask", image, question, "--detector", "shapes")
    assert answer["routes"] == ["count"] and isinstance(answer["answer"], int)
    preview = [block for block in result.content if block.type == "image"]
    assert len(preview) == 1 and preview[0].mime_type == "image/jpeg"
    assert max(Image.open(io.BytesIO(base64.b64decode(preview[0].data))).size) <= 160


def test_search_thumbnails_are_small_jpegs(client, indexed) -> None:
    from PIL import Image

    result = client.call("search_images", {"query": "a cat", "k": 2, "thumbnails": True})
    structured(result)
    images = [block for block in result.content if block.type == "image"]
    assert len(images) == 2
    for block in images:
        assert max(Image.open(io.BytesIO(base64.b64decode(block.data))).size) <= 160
    plain = client.call("search_images", {"query": "a cat", "k": 2})
    assert [block.type for block in plain.content] == ["text"]


def test_doctor_matches_the_cli(client, cli) -> None:
    served = structured(client.call("doctor"))
    local = cli("doctor")
    assert served["ok"] == local["ok"]
    assert [(c["name"], c["ok"], c["required"]) for c in served["checks"]] == [
        (c["name"], c["ok"], c["required"]) for c in local["checks"]
    ]


BAD_INPUTS = [
    ("ask_image", {"image": "missing.jpg", "question": "how many cups?"}, "missing.jpg"),
    ("ask_image", {"image": "broken.jpg", "question": "how many cups?"}, "broken.jpg"),
    ("ask_image", {"image": "notes.txt", "question": "how many cups?"}, "notes.txt"),
    ("ask_image", {"image": "coffee.jpg", "question": "   "}, "empty"),
    ("ask_image", {"image": "coffee.jpg"}, "question"),
    ("classify_image", {"image": "coffee.jpg", "labels": []}, "labels"),
    ("classify_image", {"image": "coffee.jpg", "labels": [" ", ""]}, "label"),
    ("classify_image", {"image": "coffee.jpg", "labels": ["cat"]}, "two or more labels"),
    ("classify_image", {"image": "broken.jpg", "labels": ["cat", "dog"]}, "broken.jpg"),
    ("search_images", {"query": "a cat", "k": 0}, "k"),
    ("search_images", {"query": "a cat", "k": 100_000}, "k"),
    ("search_images", {"query": "a cat", "k": "many"}, "k"),
    ("search_images", {"query": "x" * 10_001}, "query"),
    ("search_images", {}, "one of them"),
    ("search_images", {"query": "a cat", "image": "coffee.jpg"}, "one of them"),
    ("search_images", {"image": "coffee.jpg", "routed": True}, "routed"),
    ("search_images", {"query": "a cat", "taken_after": "last tuesday"}, "last tuesday"),
    ("check_query", {"query": "x" * 10_001}, "query"),
    ("check_query", {"query": ""}, "query"),
    ("find_similar", {"image": "coffee.jpg", "k": -3}, "k"),
    ("find_duplicates", {"threshold": 0}, "threshold"),
    ("find_duplicates", {"threshold": 1.5}, "threshold"),
    ("index_folder", {"path": "no-such-folder"}, "no-such-folder"),
    ("no_such_tool", {}, "no_such_tool"),
]


@pytest.mark.parametrize(
    ("tool", "arguments", "mentions"), BAD_INPUTS, ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(BAD_INPUTS)]
)
def test_bad_input_is_a_one_line_tool_error_and_the_next_call_works(client, indexed, tool, arguments, mentions) -> None:
    message = error_text(client.call(tool, arguments))
    assert mentions.lower() in message.lower(), message
    assert len(message) < 400, message
    assert structured(client.call("check_query", {"query": "a dog"}))["clip_ok"] is True


def test_paths_outside_the_roots_are_refused_unopened(client, indexed, place) -> None:
    outside = place["outside"]
    (place["photos"] / "escape.jpg").symlink_to(outside / "secret.jpg")  # made after indexing, like an attacker
    refused = [
        ("ask_image", {"image": str(outside / "secret.jpg"), "question": "how many cups?"}),
        ("ask_image", {"image": str(outside / "pipe.jpg"), "question": "how many cups?"}),  # a FIFO: open would hang
        ("ask_image", {"image": "../outside/pipe.jpg", "question": "how many cups?"}),
        ("ask_image", {"image": "escape.jpg", "question": "how many cups?"}),  # a symlink out of the root
        ("classify_image", {"image": "/etc/passwd", "labels": ["a", "b"]}),
        ("find_similar", {"image": str(outside / "secret.jpg")}),
        ("search_images", {"image": str(outside / "pipe.jpg")}),
        ("search_images", {"query": "a cat", "folder": str(outside)}),
        ("index_folder", {"path": str(outside)}),
        ("index_folder", {"path": "/"}),
    ]
    for tool, arguments in refused:
        message = error_text(client.call(tool, arguments, timeout=60))
        assert "outside the allowed roots" in message, (tool, arguments, message)
    assert structured(client.call("check_query", {"query": "a dog"}))["clip_ok"] is True
    # Search results may be passed back as they came, and are the only paths read outside a root check.
    hit = structured(client.call("search_images", {"query": "a cat", "k": 1}))["hits"][0]["path"]
    assert structured(client.call("find_similar", {"image": hit, "k": 1}))["image"] == hit
