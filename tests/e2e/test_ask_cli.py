"""ask / diagnose / search --routed wired end to end on tiny saved DETR, OWLv2, DINOv2 and CLIP models.

These pin the plumbing, JSON shapes and bad-input behaviour; whether the routed answers are *right* is
measured on the shapes world, where a trained CLIP and a real detector exist.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from skimage import data
from tests.helpers import run

from clipaware.models.fixtures import save_tiny_model


@pytest.fixture(scope="module")
def detectors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("det")
    return {kind: save_tiny_model(root / kind, kind, image_size=64) for kind in ("detr", "owlv2", "dinov2")}


@pytest.fixture()
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "coffee.jpg"
    Image.fromarray(data.coffee()).save(path)
    return path


@pytest.fixture()
def env(tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLIPAWARE_MODEL", str(tiny_clip_dir))
    return tiny_clip_dir


def test_how_many_answers_a_number_with_boxes(photo, detectors, env, capsys, monkeypatch) -> None:
    code, out, _ = run(capsys, monkeypatch, "ask", photo, "how many cups?", "--detector", detectors["detr"], "--json")
    result = json.loads(out)
    assert code == 0 and set(result) >= {"query", "answer", "routes", "evidence", "analysis"}
    assert result["routes"] == ["count"]
    count = result["evidence"][0]
    assert isinstance(result["answer"], int) and not isinstance(result["answer"], bool)
    assert result["answer"] == count["count"] == len(count["counted"])
    assert all(len(r["box"]) == 4 for r in count["counted"])


def test_composed_query_answers_yes_or_no(photo, detectors, env, capsys, monkeypatch) -> None:
    code, out, _ = run(
        capsys,
        monkeypatch,
        "ask",
        photo,
        "two red cups left of a blue plate",
        "--detector",
        detectors["owlv2"],
        "--json",
    )
    result = json.loads(out)
    assert code == 0 and result["routes"] == ["count", "relate"]
    assert result["answer"] in (True, False, None)
    assert {"counting", "spatial", "compositional"} == {lim["kind"] for lim in result["analysis"]["limitations"]}


def test_an_image_without_the_objects_is_a_clear_no(photo, detectors, env, capsys, monkeypatch) -> None:
    code, out, _ = run(capsys, monkeypatch, "ask", photo, "a giraffe left of a zebra", "--detector", detectors["detr"])
    assert code == 0 and "no" in out


def test_fine_grained_without_gallery_says_what_to_provide(photo, env, capsys, monkeypatch) -> None:
    code, out, _ = run(capsys, monkeypatch, "ask", photo, "a photo of Barack Obama", "--json")
    result = json.loads(out)
    assert code == 0 and result["answer"] is None and "--gallery" in result["evidence"][0]["reason"]


def test_fine_grained_with_a_one_image_gallery(photo, detectors, env, capsys, monkeypatch, tmp_path) -> None:
    (tmp_path / "g" / "barack_obama").mkdir(parents=True)
    Image.fromarray(data.astronaut()).save(tmp_path / "g" / "barack_obama" / "a.png")
    monkeypatch.setattr("clipaware.models.features.DEFAULT_FEATURE_MODEL", str(detectors["dinov2"]))
    code, out, _ = run(
        capsys, monkeypatch, "ask", photo, "a photo of Barack Obama", "--gallery", tmp_path / "g", "--json"
    )
    step = json.loads(out)["evidence"][0]
    assert code == 0 and step["route"] == "identify" and step["answer"] is True
    assert "one identity" in step["note"]


def test_bad_questions_and_missing_models_are_clear_errors(
    photo, env, capsys, monkeypatch, tmp_path, empty_hub_cache
) -> None:
    code, _, err = run(capsys, monkeypatch, "ask", photo, "   ")
    assert code == 2 and "error" in err.lower()
    code, _, err = run(capsys, monkeypatch, "ask", photo, "how many dogs?", "--detector", "detr")
    assert code == 2 and "models pull" in err and "Traceback" not in err
    code, _, err = run(capsys, monkeypatch, "ask", tmp_path / "nope.jpg", "how many dogs?")
    assert code != 0 and "file not found" in err


def test_diagnose_reports_probes_and_writes_a_picture(photo, detectors, env, capsys, monkeypatch, tmp_path) -> None:
    out_png = tmp_path / "report.png"
    code, out, _ = run(
        capsys, monkeypatch, "diagnose", "--image", photo, "--query", "three cups but no spoons",
        "--detector", detectors["owlv2"], "--out", out_png, "--json",
    )  # fmt: skip
    result = json.loads(out)
    assert code == 0 and {"clip", "probes", "analysis", "routed", "explanation", "picture"} <= set(result)
    assert [p["kind"] for p in result["probes"]] == ["change_number", "drop_negation"]
    assert result["probes"][0]["text"] == "four cups but no spoons"
    assert Image.open(out_png).size[0] > Image.open(photo).size[0]  # boxes beside the heat-map


def test_routed_search_checks_clip_candidates(photo_folder, detectors, env, capsys, monkeypatch) -> None:
    run(capsys, monkeypatch, "index", photo_folder)
    monkeypatch.chdir(photo_folder)
    code, out, _ = run(
        capsys, monkeypatch, "search", "how many cups?", "--routed", "--detector", detectors["detr"], "--json"
    )
    result = json.loads(out)
    assert code == 0 and result["routes"] == ["count"] and result["examined"] == 4
    assert all(h["answer"] > 0 for h in result["hits"])
    code, out, _ = run(capsys, monkeypatch, "search", "a beach at sunset", "--routed", "--json")
    assert json.loads(out)["routes"] == ["clip"]
