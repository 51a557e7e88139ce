"""Every route of ``ask`` run on its own, on scenes whose answer is known.

Each test asserts which route answered (a CLIP fallback that happened to be right must not pass), the answer,
and the evidence the route reports. The scenes come from the shapes world (exact ground truth, drawn with a
seed), the detector is the shapes world's classical one, CLIP is the small CLIP trained on that world, and
identity runs on a tiny DINOv2 saved with ``save_pretrained`` against a real labelled gallery.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from clipaware.models.clip import ClipModel
from clipaware.models.detect import ShapeDetector
from clipaware.models.fixtures import save_tiny_model
from clipaware.tasks.ask import AskAnswer, Toolkit, ask
from clipaware.world import SHAPES_CLIP_PATH
from clipaware.world.scenes import SCENE_SIZE, ObjectSpec, make_scene

THIRD = SCENE_SIZE // 3


@pytest.fixture(scope="module")
def clip() -> ClipModel:
    return ClipModel.load(str(SHAPES_CLIP_PATH))


@pytest.fixture(scope="module")
def kit(clip: ClipModel) -> Toolkit:
    return Toolkit(clip=clip, detector=ShapeDetector())


def scene(*specs: ObjectSpec, seed: int = 0) -> Image.Image:
    return make_scene(np.random.default_rng(seed), list(specs)).image


def cell(column: int, row: int) -> tuple[int, int, int, int]:
    """The region of one cell of a 3 x 3 grid over the scene (column, row from the top left)."""
    return (column * THIRD, row * THIRD, (column + 1) * THIRD, (row + 1) * THIRD)


def only_route(result: AskAnswer, route: str) -> dict:
    """The evidence of the single step, after checking that ``route`` (and nothing else) answered."""
    assert [s.route for s in result.steps] == [route], f"answered by {[s.route for s in result.steps]}"
    return result.steps[0].to_dict()


# ------------------------------------------------------------------------------------------------- count
def test_count_route_counts_the_asked_colour_and_shows_each_box(kit: Toolkit) -> None:
    image = scene(
        *[ObjectSpec("circle", "red", "small")] * 3, ObjectSpec("circle", "blue", "small"),
        ObjectSpec("star", "red", "small"),
    )  # fmt: skip
    result = ask(image, "how many red circles?", kit=kit)
    evidence = only_route(result, "count")
    assert result.answer == 3 and evidence["count"] == 3 and evidence["op"] == "ask"
    assert len(evidence["counted"]) == 3 and {d["label"] for d in evidence["counted"]} == {"circle"}
    assert [d["label"] for d in evidence["rejected"]] == ["circle"]  # the blue one: right shape, wrong colour
    assert ask(image, "how many circles?", kit=kit).answer == 4
    exact = ask(image, "exactly three red circles", kit=kit)
    assert exact.answer is True and only_route(exact, "count")["value"] == 3
    assert ask(image, "exactly two red circles", kit=kit).answer is False
    assert ask(image, "at least five circles", kit=kit).answer is False


# ------------------------------------------------------------------------------------------------ relate
@pytest.mark.parametrize(
    ("words", "relation", "holds"),
    [
        ("to the left of", "left_of", True),
        ("to the right of", "right_of", False),
        ("above", "above", True),
        ("below", "below", False),
    ],
)
def test_relate_route_reads_the_boxes(kit: Toolkit, words: str, relation: str, holds: bool) -> None:
    image = scene(ObjectSpec("square", "green", "large", cell(0, 0)), ObjectSpec("star", "yellow", "large", cell(2, 2)))
    result = ask(image, f"a green square {words} a yellow star", kit=kit)
    evidence = only_route(result, "relate")
    assert evidence["relation"] == relation and evidence["subject"] == "green square"
    assert evidence["object"] == "yellow star" and result.answer is holds
    assert evidence["verdict"] == ("holds" if holds else "does_not_hold")
    square, star = evidence["pair"][0]["box"], evidence["pair"][1]["box"]
    assert square[2] <= star[0] and square[3] <= star[1]  # the pair judged: the square (top left), the star


def test_relate_route_refuses_swapped_colours(kit: Toolkit) -> None:
    image = scene(ObjectSpec("square", "green", "large", cell(0, 1)), ObjectSpec("star", "yellow", "large", cell(2, 1)))
    result = ask(image, "a yellow square to the left of a green star", kit=kit)
    evidence = only_route(result, "relate")
    assert result.answer is False and evidence["pair"] == []


# ------------------------------------------------------------------------------------------------- frame
FRAME_QUERIES = {
    "left": ("on the left", (0, 1), (2, 1)),
    "right": ("on the right side", (2, 1), (0, 1)),
    "top": ("at the top", (1, 0), (1, 2)),
    "bottom": ("at the bottom of the picture", (1, 2), (1, 0)),
    "center": ("in the center", (1, 1), (0, 0)),
    "top_left": ("in the top left corner", (0, 0), (2, 2)),
    "top_right": ("in the top right", (2, 0), (0, 2)),
    "bottom_left": ("at the bottom left", (0, 2), (2, 0)),
    "bottom_right": ("in the bottom right corner", (2, 2), (0, 0)),
}


@pytest.mark.parametrize("region", sorted(FRAME_QUERIES))
def test_frame_route_for_every_region(kit: Toolkit, region: str) -> None:
    words, inside, outside = FRAME_QUERIES[region]
    query = f"a red circle {words}"
    there = ask(scene(ObjectSpec("circle", "red", "small", cell(*inside))), query, kit=kit)
    evidence = only_route(there, "frame")
    assert evidence["position"] == region and there.answer is True and evidence["verdict"] == "holds"
    assert len(evidence["regions"]) == 1
    elsewhere = ask(scene(ObjectSpec("circle", "red", "small", cell(*outside))), query, kit=kit)
    evidence = only_route(elsewhere, "frame")
    assert elsewhere.answer is False and evidence["verdict"] == "does_not_hold" and "outside" in evidence["reason"]


def test_frame_route_without_the_object_is_a_no(kit: Toolkit) -> None:
    result = ask(scene(ObjectSpec("star", "blue", "small", cell(0, 0))), "a red circle in the top left corner", kit=kit)
    evidence = only_route(result, "frame")
    assert result.answer is False and evidence["regions"] == [] and evidence["reason"] == "no red circle detected"


# -------------------------------------------------------------------------------------------------- bind
def test_bind_route_tells_a_binding_from_its_swap(kit: Toolkit) -> None:
    image = scene(ObjectSpec("triangle", "purple", "large"), ObjectSpec("circle", "orange", "large"))
    right = ask(image, "a purple triangle and an orange circle", kit=kit)
    evidence = only_route(right, "bind")
    assert right.answer is True and evidence["holds"] is True
    swapped = ask(image, "an orange triangle and a purple circle", kit=kit)
    assert only_route(swapped, "bind")["holds"] is False and swapped.answer is False


# ------------------------------------------------------------------------------------------------ negate
def test_negate_route_detects_the_excluded_thing(kit: Toolkit) -> None:
    image = scene(ObjectSpec("triangle", "purple", "large"), ObjectSpec("circle", "orange", "large"))
    absent = ask(image, "a scene with no squares", kit=kit)
    assert [s.route for s in absent.steps] == ["negate"] and absent.answer is True
    assert absent.steps[0].evidence["found"] == []
    present = ask(image, "a scene with no triangles", kit=kit)
    assert [s.route for s in present.steps] == ["negate"] and present.answer is False
    assert [d["label"] for d in present.steps[0].evidence["found"]] == ["triangle"]


# ------------------------------------------------------------------------------------------------- roles
def test_roles_route_contrasts_the_sentence_with_its_role_swap(kit: Toolkit, clip: ClipModel) -> None:
    image = scene(ObjectSpec("circle", "red", "large"))
    result = ask(image, "a cat chasing a dog", kit=kit)
    evidence = only_route(result, "roles")
    assert evidence["swapped"] == "a photo of a dog chasing a cat."
    assert evidence["low_confidence"] is True
    sims = clip.encode_texts(["a photo of a cat chasing a dog.", evidence["swapped"]]) @ clip.embed_pil([image])[0]
    assert evidence["query_similarity"] == pytest.approx(float(sims[0]), abs=1e-4)
    assert evidence["swapped_similarity"] == pytest.approx(float(sims[1]), abs=1e-4)
    margin = float(sims[0] - sims[1])
    assert result.answer is (None if abs(margin) < 0.01 else margin > 0)


# ---------------------------------------------------------------------------------------------- identify
@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Image.Image]]:
    root = tmp_path_factory.mktemp("gallery")
    people = {
        "barack_obama": scene(ObjectSpec("star", "yellow", "large"), seed=1),
        "ada_lovelace": scene(ObjectSpec("square", "blue", "large"), seed=2),
    }
    for label, image in people.items():
        (root / label).mkdir()
        image.save(root / label / "a.png")
    return root, people


def test_identify_route_answers_from_the_gallery(
    clip: ClipModel, gallery: tuple[Path, dict[str, Image.Image]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder, people = gallery
    dino = save_tiny_model(tmp_path_factory.mktemp("m") / "dino", "dinov2", image_size=64)
    kit = Toolkit(clip=clip, detector=ShapeDetector(), gallery=folder, feature_model=str(dino))
    yes = ask(people["barack_obama"], "is this Barack Obama?", kit=kit)
    evidence = only_route(yes, "identify")
    assert yes.answer is True and evidence["label"] == "barack_obama"
    no = ask(people["ada_lovelace"], "is this Barack Obama?", kit=kit)
    assert no.answer is False and only_route(no, "identify")["label"] == "ada_lovelace"
    without = ask(people["ada_lovelace"], "is this Barack Obama?", kit=Toolkit(clip=clip, detector=ShapeDetector()))
    assert without.answer is None and "--gallery" in only_route(without, "identify")["reason"]


# -------------------------------------------------------------------------------------------------- clip
def test_clip_route_answers_a_plain_query_against_unrelated_captions(kit: Toolkit) -> None:
    image = scene(ObjectSpec("circle", "red", "large"))
    match = ask(image, "a red circle", kit=kit)
    evidence = only_route(match, "clip")
    assert match.answer is True and evidence["verdict"] == "match"
    other = ask(image, "a green star", kit=kit)
    assert other.answer is False and only_route(other, "clip")["verdict"] == "no match"
    assert evidence["similarity"] > only_route(other, "clip")["similarity"]
