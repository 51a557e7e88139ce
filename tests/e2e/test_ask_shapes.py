"""ask, search --routed and diagnose end to end on shapes scenes, with the trained shapes CLIP and the
ShapeDetector: answers are checked against each scene's ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.helpers import run

from clipaware.eval.shapes import SHAPES_CLIP_PATH
from clipaware.eval.shapes.scenes import ObjectSpec, generate_scenes, make_scene


@pytest.fixture()
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLIPAWARE_MODEL", str(SHAPES_CLIP_PATH))


def _scene_file(tmp_path: Path, specs: list[ObjectSpec], name: str = "scene.png", seed: int = 0) -> Path:
    scene = make_scene(np.random.default_rng(seed), specs)
    path = tmp_path / name
    scene.image.save(path)
    return path


def _ask(capsys, monkeypatch, image: Path, query: str) -> dict:
    code, out, _ = run(capsys, monkeypatch, "ask", image, query, "--detector", "shapes", "--json")
    assert code == 0
    return json.loads(out)


def test_how_many_counts_only_the_asked_colour(env, tmp_path, capsys, monkeypatch) -> None:
    specs = [ObjectSpec("circle", "red", "small")] * 3 + [
        ObjectSpec("circle", "blue", "small"),
        ObjectSpec("star", "red", "small"),
    ]
    image = _scene_file(tmp_path, specs)
    assert _ask(capsys, monkeypatch, image, "how many red circles?")["answer"] == 3
    assert _ask(capsys, monkeypatch, image, "how many circles are there?")["answer"] == 4
    assert _ask(capsys, monkeypatch, image, "exactly three red circles")["answer"] is True
    assert _ask(capsys, monkeypatch, image, "at least five circles")["answer"] is False


def test_relations_and_their_swaps(env, tmp_path, capsys, monkeypatch) -> None:
    specs = [
        ObjectSpec("square", "green", "large", (0, 0, 100, 224)),
        ObjectSpec("star", "yellow", "large", (124, 0, 224, 224)),
    ]
    image = _scene_file(tmp_path, specs)
    assert _ask(capsys, monkeypatch, image, "a green square to the left of a yellow star")["answer"] is True
    assert _ask(capsys, monkeypatch, image, "a green square to the right of a yellow star")["answer"] is False
    result = _ask(capsys, monkeypatch, image, "a yellow square to the left of a green star")  # colours swapped
    assert result["answer"] is False and result["routes"] == ["relate"]


def test_binding_and_negation(env, tmp_path, capsys, monkeypatch) -> None:
    specs = [ObjectSpec("triangle", "purple", "large"), ObjectSpec("circle", "orange", "large")]
    image = _scene_file(tmp_path, specs)
    assert _ask(capsys, monkeypatch, image, "a purple triangle and an orange circle")["answer"] is True
    assert _ask(capsys, monkeypatch, image, "an orange triangle and a purple circle")["answer"] is False
    assert _ask(capsys, monkeypatch, image, "a scene with no squares")["answer"] is True
    assert _ask(capsys, monkeypatch, image, "a scene with no triangles")["answer"] is False


def test_routed_search_keeps_exactly_the_scenes_that_satisfy_the_query(env, tmp_path, capsys, monkeypatch) -> None:
    folder = tmp_path / "scenes"
    folder.mkdir()
    scenes = generate_scenes(24, seed=3)
    for i, scene in enumerate(scenes):
        scene.image.save(folder / f"s{i:02d}.png")
    run(capsys, monkeypatch, "index", folder)
    monkeypatch.chdir(folder)
    code, out, _ = run(
        capsys, monkeypatch, "search", "exactly two circles", "--routed", "--detector", "shapes",
        "--candidates", "24", "-k", "24", "--json",
    )  # fmt: skip
    result = json.loads(out)
    truth = {f"s{i:02d}.png" for i, s in enumerate(scenes) if s.count("circle") == 2}
    assert code == 0 and result["routes"] == ["count"] and result["examined"] == 24
    assert {Path(h["path"]).name for h in result["hits"]} == truth
    assert all(h["evidence"][0]["count"] == 2 for h in result["hits"])


def test_diagnose_shows_clip_cannot_tell_sides_but_the_route_can(env, tmp_path, capsys, monkeypatch) -> None:
    specs = [
        ObjectSpec("circle", "red", "large", (0, 0, 100, 224)),
        ObjectSpec("square", "blue", "large", (124, 0, 224, 224)),
    ]
    image = _scene_file(tmp_path, specs)
    out_png = tmp_path / "why.png"
    code, out, _ = run(
        capsys, monkeypatch, "diagnose", "--image", image, "--query", "a red circle to the left of a blue square",
        "--detector", "shapes", "--out", out_png, "--json",
    )  # fmt: skip
    result = json.loads(out)
    assert code == 0 and result["routed"]["answer"] is True
    kinds = {p["kind"]: p for p in result["probes"]}
    assert set(kinds) == {"swap_sides", "swap_attributes"}
    assert kinds["swap_sides"]["text"] == "a red circle to the right of a blue square"
    assert abs(kinds["swap_sides"]["delta"]) < 0.05  # CLIP barely separates left from right
    picture = Image.open(out_png)  # the scene with its boxes, beside CLIP's heat-map: two panels and a gap
    assert picture.size == (2 * 224 + 8, 224)
    scene = np.asarray(Image.open(image).convert("RGB"))
    panels = np.asarray(picture.convert("RGB"))
    assert not np.array_equal(panels[:, :224], scene)  # the boxes were drawn over the scene
    assert not np.array_equal(panels[:, 232:], scene)  # and the heat over its copy


def test_diagnose_leads_with_a_probe_clip_prefers_and_does_not_fake_a_calibration(
    env, tmp_path, capsys, monkeypatch
) -> None:
    """The shapes CLIP scores the attribute-swapped caption above the query, and cannot read the everyday
    null captions: the explanation starts with the swap, and no z is invented."""
    specs = [
        ObjectSpec("circle", "red", "large", (0, 0, 100, 224)),
        ObjectSpec("square", "blue", "large", (124, 0, 224, 224)),
    ]
    image = _scene_file(tmp_path, specs)
    query = "a red circle to the left of a blue square"
    args = ("diagnose", "--image", image, "--query", query, "--detector", "shapes")
    code, out, _ = run(capsys, monkeypatch, *args, "--json")
    result = json.loads(out)
    swap = {p["kind"]: p for p in result["probes"]}["swap_attributes"]
    assert code == 0 and swap["delta"] < 0 and swap["clip_prefers_probe"] and not swap["clip_cannot_tell"]
    assert result["explanation"].startswith(f"CLIP scores the altered query {swap['text']!r}")
    assert result["clip"]["verdict"] == "cannot calibrate" and result["clip"]["z"] is None
    assert "the routed answer is yes" in result["explanation"]
    code, out, _ = run(capsys, monkeypatch, *args)
    assert code == 0 and "CLIP prefers this" in out and "cannot calibrate" in out
    assert "p = " not in out and "is True" not in out
    answer = _ask(capsys, monkeypatch, image, "a scene")  # the plain CLIP route: no null, so can't tell
    assert answer["answer"] is None and "vocabulary" in answer["evidence"][0]["reason"]


def test_ask_for_people_shows_the_boxes_it_counted(env, tmp_path, capsys, monkeypatch) -> None:
    image = _scene_file(tmp_path, [ObjectSpec("circle", "red", "small")] * 2 + [ObjectSpec("star", "blue", "small")])
    code, out, _ = run(capsys, monkeypatch, "ask", image, "how many circles?", "--detector", "shapes")
    lines = out.splitlines()
    assert code == 0 and lines[0].endswith("→ 2")
    boxes = [line for line in lines if line.strip().startswith("circle ") and " at [" in line]
    assert len(boxes) == 2  # the two circles, with score and corners, not the star
