"""Each route of the table on shapes-world scenes: the route that ran, its answer and its evidence.

The scenes are drawn with exact ground truth; the models are the shipped shapes CLIP and the classical
``ShapeDetector``, loaded through the same interfaces as real models. Queries go through the analyzer and
``routes.plan`` so that planning is pinned too; the frame regions are run as steps, one per region.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from clipaware import routes
from clipaware.eval.shapes import SHAPES_CLIP_PATH
from clipaware.eval.shapes.detect import ShapeDetector
from clipaware.eval.shapes.scenes import SCENE_SIZE, ObjectSpec, make_scene
from clipaware.models.clip import ClipModel
from clipaware.query import analyze
from clipaware.routes import ROUTES, Route, RouteAnswer, Step
from clipaware.routes.geometry import FRAME_REGIONS
from clipaware.routes.regions import ObjectRef
from clipaware.tasks.ask import Toolkit

RED_CIRCLE = ObjectSpec("circle", "red", "small")


@pytest.fixture(scope="module")
def clip() -> ClipModel:
    return ClipModel.load(SHAPES_CLIP_PATH)


@pytest.fixture(scope="module")
def kit(clip: ClipModel) -> Toolkit:
    return Toolkit(clip, detector=ShapeDetector())


def _scene(*specs: ObjectSpec, seed: int = 0) -> Image.Image:
    return make_scene(np.random.default_rng(seed), list(specs)).image


def _ask(query: str, image: Image.Image, kit: Toolkit) -> list[RouteAnswer]:
    return [routes.run(step, image, kit) for step in routes.plan(analyze(query))]


def test_every_route_in_the_table_is_a_route() -> None:
    names = ["count", "frame", "relate", "unsupported", "bind", "roles", "negate", "identify", "clip"]
    assert list(ROUTES) == names  # the table's order is the planning order
    assert all(isinstance(route, Route) and route.name == name for name, route in ROUTES.items())


def test_count_counts_only_the_asked_colour(kit: Toolkit) -> None:
    image = _scene(RED_CIRCLE, RED_CIRCLE, RED_CIRCLE, ObjectSpec("circle", "blue", "small"),
                   ObjectSpec("star", "red", "small"))  # fmt: skip
    (answer,) = _ask("how many red circles?", image, kit)
    assert (answer.route, answer.answer) == ("count", 3)
    assert answer.evidence["count"] == 3 and answer.evidence["target"] == "red circle"
    assert [r["label"] for r in answer.evidence["counted"]] == ["circle"] * 3
    assert [r["label"] for r in answer.evidence["rejected"]] == ["circle"]  # the blue one, judged on its crop
    assert answer.models == ("ShapeDetector", kit.clip.name)
    (exact,) = _ask("exactly four circles", image, kit)
    assert (exact.route, exact.answer, exact.evidence["count"]) == ("count", True, 4)
    assert exact.models == ("ShapeDetector",)  # no attribute asked: CLIP not needed


def test_relate_decides_from_the_boxes(kit: Toolkit) -> None:
    image = _scene(ObjectSpec("square", "green", "large", (0, 0, 100, 224)),
                   ObjectSpec("star", "yellow", "large", (124, 0, 224, 224)))  # fmt: skip
    (left,) = _ask("a green square left of a yellow star", image, kit)
    assert (left.route, left.answer, left.evidence["verdict"]) == ("relate", True, "holds")
    assert [r["label"] for r in left.evidence["pair"]] == ["square", "star"]
    (right,) = _ask("a green square to the right of a yellow star", image, kit)
    assert (right.route, right.answer, right.evidence["verdict"]) == ("relate", False, "does_not_hold")
    (swapped,) = _ask("a yellow square to the left of a green star", image, kit)
    assert (swapped.route, swapped.answer) == ("relate", False)
    assert "no yellow square" in swapped.evidence["reason"]


@pytest.mark.parametrize(
    ("words", "relation", "holds"),
    [("above", "above", True), ("below", "below", False), ("to the left of", "left_of", True)],
)
def test_relate_reads_the_vertical_axis_too(kit: Toolkit, words: str, relation: str, holds: bool) -> None:
    third = SCENE_SIZE // 3  # the square in the top-left cell, the star in the bottom-right one
    image = _scene(ObjectSpec("square", "green", "large", (0, 0, third, third)),
                   ObjectSpec("star", "yellow", "large", (2 * third, 2 * third, SCENE_SIZE, SCENE_SIZE)))  # fmt: skip
    (answer,) = _ask(f"a green square {words} a yellow star", image, kit)
    assert (answer.route, answer.evidence["relation"], answer.answer) == ("relate", relation, holds)
    assert answer.evidence["verdict"] == ("holds" if holds else "does_not_hold")


# A position in each frame region (fractions of the picture) and a region that position is not in.
OTHER_REGION = {
    "left": "right", "right": "left", "top": "bottom", "bottom": "top", "center": "top_left",
    "top_left": "bottom_right", "top_right": "bottom_left", "bottom_left": "top_right", "bottom_right": "top_left",
}  # fmt: skip


@pytest.mark.parametrize("region", sorted(FRAME_REGIONS))
def test_frame_places_the_object_in_each_region(kit: Toolkit, region: str) -> None:
    (x0, x1), (y0, y1) = FRAME_REGIONS[region]
    cx, cy = round((x0 + x1) / 2 * SCENE_SIZE), round((y0 + y1) / 2 * SCENE_SIZE)
    box = (max(0, cx - 25), max(0, cy - 25), min(SCENE_SIZE, cx + 25), min(SCENE_SIZE, cy + 25))
    image = _scene(ObjectSpec("circle", "red", "small", box))
    frame = ROUTES["frame"]
    inside = frame.run(Step("frame", {"target": ObjectRef("circle"), "position": region}, ""), image, kit)
    assert (inside.route, inside.answer, inside.evidence["verdict"]) == ("frame", True, "holds")
    assert inside.evidence["position"] == region and len(inside.evidence["regions"]) == 1
    other = OTHER_REGION[region]
    outside = frame.run(Step("frame", {"target": ObjectRef("circle"), "position": other}, ""), image, kit)
    assert (outside.answer, outside.evidence["verdict"]) == (False, "does_not_hold")
    assert f"outside its {other}" in outside.evidence["reason"]


def test_frame_is_planned_from_the_words(kit: Toolkit) -> None:
    image = _scene(ObjectSpec("circle", "red", "small", (150, 0, 224, 70)))
    (corner,) = _ask("a circle in the top right corner of the picture", image, kit)
    assert (corner.route, corner.answer, corner.evidence["position"]) == ("frame", True, "top_right")
    (absent,) = _ask("a star in the top right corner of the picture", image, kit)
    assert (absent.route, absent.answer, absent.evidence["reason"]) == ("frame", False, "no star detected")


def test_bind_prefers_the_right_binding_over_its_swap(kit: Toolkit) -> None:
    image = _scene(ObjectSpec("triangle", "purple", "large"), ObjectSpec("circle", "orange", "large"))
    (right,) = _ask("a purple triangle and an orange circle", image, kit)
    assert (right.route, right.answer) == ("bind", True)
    assert right.evidence["prefers_query"] and right.evidence["log_score"] > right.evidence["swapped_log_score"]
    assert {b["phrase"]: b["region"]["label"] for b in right.evidence["bindings"]} == {
        "purple triangle": "triangle",
        "orange circle": "circle",
    }
    (swapped,) = _ask("an orange triangle and a purple circle", image, kit)
    assert (swapped.route, swapped.answer, swapped.evidence["prefers_query"]) == ("bind", False, False)


def test_negate_looks_for_the_excluded_thing(kit: Toolkit) -> None:
    image = _scene(ObjectSpec("circle", "red", "large"), ObjectSpec("square", "blue", "large"))
    (absent,) = _ask("a scene with no triangles", image, kit)
    assert (absent.route, absent.answer, absent.evidence["found"]) == ("negate", True, [])
    (present,) = _ask("a scene with no circles", image, kit)
    assert (present.route, present.answer) == ("negate", False)
    assert [r["label"] for r in present.evidence["found"]] == ["circle"]
    (coloured,) = _ask("a scene with no blue circles", image, kit)  # the circle is red: judged on its crop
    assert (coloured.route, coloured.answer, coloured.evidence["found"]) == ("negate", True, [])


def test_roles_contrast_the_query_with_its_role_swap(kit: Toolkit) -> None:
    image = _scene(ObjectSpec("circle", "red", "large"), ObjectSpec("square", "blue", "large"))
    (roles,) = _ask("a cat chasing a dog", image, kit)
    assert roles.route == "roles" and roles.evidence["low_confidence"] is True
    assert roles.evidence["swapped"] == "a photo of a dog chasing a cat."
    margin = roles.evidence["query_similarity"] - roles.evidence["swapped_similarity"]
    assert roles.answer == (None if abs(margin) < 0.01 else margin > 0)
    (taller,) = _ask("a man is taller than a woman", image, kit)  # a comparison swaps in the user's words too
    assert taller.route == "roles" and taller.evidence["swapped"] == "a photo of a woman is taller than a man."


def test_roles_decides_by_the_side_of_the_margin(tiny_clip_dir: Path) -> None:
    """A CLIP that does separate the two orders (the tiny random one, whose token order matters) answers by
    which of the two sentences scores higher; the shapes CLIP above reads neither and ties."""
    from tests.conftest import ENGINE

    clip = ClipModel.load(tiny_clip_dir, **ENGINE)
    kit = Toolkit(clip, detector=ShapeDetector())
    image = _scene(ObjectSpec("circle", "red", "large"), ObjectSpec("square", "blue", "large"))
    answers = []
    for query in ("a cat chasing a dog", "a dog chasing a cat", "a horse pulling a man", "a man pulling a horse"):
        (roles,) = _ask(query, image, kit)
        margin = roles.evidence["query_similarity"] - roles.evidence["swapped_similarity"]
        sims = (
            clip.encode_texts([f"a photo of a {roles.text}.", roles.evidence["swapped"]]) @ clip.embed_pil([image])[0]
        )
        assert margin == pytest.approx(float(sims[0] - sims[1]), abs=2e-4)
        assert roles.answer == (None if abs(margin) < 0.01 else margin > 0)
        answers.append(roles.answer)
    assert True in answers and False in answers  # both sides of the margin are exercised


def test_clip_says_it_cannot_calibrate_when_the_null_is_out_of_vocabulary(kit: Toolkit) -> None:
    image = _scene(ObjectSpec("circle", "red", "large"))
    (match,) = _ask("a red circle", image, kit)  # the shapes CLIP reads none of the everyday null captions
    assert (match.route, match.answer, match.evidence["verdict"]) == ("clip", None, "cannot calibrate")
    assert "vocabulary" in match.evidence["reason"] and match.evidence["z"] is None


def test_clip_answers_a_plain_query_calibrated(kit: Toolkit, monkeypatch: pytest.MonkeyPatch) -> None:
    from clipaware.eval.shapes.scenes import COLOURS, SHAPES

    # a null the shapes CLIP can read, unrelated to the picture: neither red nor a circle
    null = tuple(
        f"a {z} {c} {s}." for z in ("small", "large") for c in COLOURS for s in SHAPES if c != "red" and s != "circle"
    )
    monkeypatch.setattr("clipaware.routes.clip.NULL_CAPTIONS", null)
    image = _scene(ObjectSpec("circle", "red", "large"))
    (match,) = _ask("a red circle", image, kit)
    (miss,) = _ask("a green star", image, kit)
    assert (match.route, match.answer, match.evidence["verdict"]) == ("clip", True, "match")
    assert (miss.route, miss.answer, miss.evidence["verdict"]) == ("clip", False, "no match")
    assert match.evidence["z"] > miss.evidence["z"] and match.models == (kit.clip.name,)
    assert match.evidence["null_size"] == len(null) and match.evidence["beats"] == 1.0


def test_identify_needs_a_gallery_and_votes_with_one(clip: ClipModel, tmp_path: Path) -> None:
    from clipaware.testing import save_tiny_model

    query_image = _scene(ObjectSpec("star", "yellow", "large"), seed=5)
    without = Toolkit(clip, detector=ShapeDetector())
    (unknown,) = _ask("photo of Barack Obama giving a speech", query_image, without)
    assert (unknown.route, unknown.answer) == ("identify", None) and "--gallery" in unknown.evidence["reason"]

    gallery = tmp_path / "gallery"
    people = {"barack_obama": [query_image, _scene(ObjectSpec("star", "yellow", "large"), seed=6)],
              "someone_else": [_scene(ObjectSpec("square", "blue", "small"), seed=s) for s in (7, 8)]}  # fmt: skip
    for label, images in people.items():
        (gallery / label).mkdir(parents=True)
        for i, image in enumerate(images):
            image.save(gallery / label / f"{i}.png")
    dino = save_tiny_model(tmp_path / "dino", "dinov2")
    kit = Toolkit(clip, detector=ShapeDetector(), gallery=gallery, feature_model=str(dino))
    (named,) = _ask("photo of Barack Obama giving a speech", query_image, kit)
    assert (named.route, named.answer, named.evidence["label"]) == ("identify", True, "barack_obama")
    assert named.evidence["neighbours"][0]["path"].endswith("barack_obama/0.png")  # the same picture, nearest
    (who,) = _ask("who is this?", query_image, kit)
    assert (who.route, who.answer) == ("identify", "barack_obama")
    (other,) = _ask("photo of Barack Obama giving a speech", people["someone_else"][0], kit)  # the gallery says no
    assert (other.route, other.answer, other.evidence["label"]) == ("identify", False, "someone_else")
