"""COCO vocabulary, detector choice and NMS: the parts of detection that need no model."""

from __future__ import annotations

import pytest

from clipaware.models.coco import coco_class
from clipaware.models.detect import DETR, OWLV2, Detection, choose_detector_name, nms
from clipaware.words import singular


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("puppies", "dog"),
        ("people", "person"),
        ("women", "person"),
        ("knives", "knife"),
        ("traffic lights", "traffic light"),
        ("sofas", "couch"),
        ("TV", "tv"),
        ("unicorn", None),
        ("stars", None),
        ("glasses", None),
    ],
)
def test_nouns_map_to_coco_classes(word: str, expected: str | None) -> None:
    assert coco_class(word) == expected


@pytest.mark.parametrize(
    ("plural", "single"),
    [("buses", "bus"), ("boxes", "box"), ("puppies", "puppy"), ("grass", "grass"), ("red cars", "red car")],
)
def test_singular(plural: str, single: str) -> None:
    assert singular(plural) == single


def test_detector_choice_is_detr_only_when_every_noun_is_coco() -> None:
    assert choose_detector_name(["dogs", "people"]) == DETR
    assert choose_detector_name(["dog", "unicorn"]) == OWLV2
    assert choose_detector_name([]) == OWLV2


def test_nms_keeps_the_best_box_per_object_and_label() -> None:
    a = Detection("dog", 0.9, (0, 0, 10, 10))
    a_dup = Detection("dog", 0.6, (1, 1, 11, 11))
    b = Detection("dog", 0.8, (50, 50, 60, 60))
    cat_same_place = Detection("cat", 0.7, (0, 0, 10, 10))
    assert nms([a_dup, b, a, cat_same_place]) == [a, b, cat_same_place]
