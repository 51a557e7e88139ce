"""Benchmark loaders read the released formats (tiny fixtures in tests/fixtures/benchmarks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clipaware.errors import UsageError
from clipaware.eval.benchmarks import count_candidates, load_benchmark, load_countbench, load_sugarcrepe, load_whatsup

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "benchmarks"


def test_whatsup_controlled_and_qa_formats() -> None:
    data = load_whatsup(FIXTURES / "whatsup")
    assert set(data.subsets) == {"controlled_images", "coco_qa_two_obj"}
    controlled = data.subsets["controlled_images"]
    assert [item.image_path.name for item in controlled] == [
        "red-circle_left_of_blue-square.jpeg",
        "red-circle_right_of_blue-square.jpeg",
    ]
    assert all(len(item.texts) == 4 and item.answer == 0 for item in controlled)
    assert controlled[1].texts[0] == "A red circle to the right of a blue square"
    (qa,) = data.subsets["coco_qa_two_obj"]
    assert qa.image_path.name == "000000397133.jpg" and qa.texts[1] == "A green star below a yellow triangle"
    assert data.skipped == {"controlled_images": 0, "coco_qa_two_obj": 1}


def test_sugarcrepe_format_and_separate_image_folder(tmp_path: Path) -> None:
    data = load_sugarcrepe(FIXTURES / "sugarcrepe")
    assert set(data.subsets) == {"swap_att", "replace_obj"}
    (item,) = data.subsets["swap_att"]
    assert item.texts == ("a red circle and a blue square", "a blue circle and a red square")
    assert data.skipped["replace_obj"] == 1
    # annotation files alone, images elsewhere (as with a shared COCO copy)
    for name in ("swap_att.json", "replace_obj.json"):
        (tmp_path / name).write_text((FIXTURES / "sugarcrepe" / name).read_text())
    moved = load_sugarcrepe(tmp_path, images=FIXTURES / "sugarcrepe" / "val2017")
    assert [i.image_path for i in moved.items()] == [i.image_path for i in data.items()]


def test_countbench_finds_images_three_ways_and_builds_two_to_ten() -> None:
    data = load_countbench(FIXTURES / "countbench")
    items = data.subsets["countbench"]
    assert [i.image_path.name for i in items] == ["0.jpg", "squares.jpg", "local.png"]
    assert [i.texts[i.answer] for i in items] == [
        "Three orange circles on a table",
        "a photo of 4 grey squares",
        "two black triangles",
    ]
    assert all(len(i.texts) == 9 for i in items)
    assert data.skipped == {"countbench": 2}  # one image missing, one caption without its number


def test_count_candidates_keep_case_and_form() -> None:
    assert count_candidates("Three cats", 3)[:2] == ("Two cats", "Three cats")
    assert count_candidates("a photo of 4 apples", 4)[-1] == "a photo of 10 apples"
    assert count_candidates("a family portrait", 5) is None


def test_clear_errors_for_wrong_folders(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a folder"):
        load_whatsup(tmp_path / "nope")
    with pytest.raises(UsageError, match="no What'sUp annotation"):
        load_whatsup(tmp_path)
    with pytest.raises(UsageError, match="no SugarCrepe file"):
        load_sugarcrepe(tmp_path)
    with pytest.raises(UsageError, match=r"CountBench\.json"):
        load_countbench(tmp_path)
    (tmp_path / "swap_att.json").write_text("{broken")
    with pytest.raises(UsageError, match="not a readable JSON"):
        load_sugarcrepe(tmp_path)
    with pytest.raises(UsageError, match="unknown benchmark"):
        load_benchmark("winoground", tmp_path)


def test_fixture_files_are_in_the_released_shapes() -> None:
    """Guard the fixtures themselves: the structures the original evaluation scripts index into."""
    controlled = json.loads((FIXTURES / "whatsup" / "controlled_images_dataset.json").read_text())
    assert set(controlled[0]) == {"image_path", "caption_options"}
    qa = json.loads((FIXTURES / "whatsup" / "coco_qa_two_obj.json").read_text())
    assert qa[0] == [397133, "A green star above a yellow triangle", "A green star below a yellow triangle"]
    swap = json.loads((FIXTURES / "sugarcrepe" / "swap_att.json").read_text())
    assert set(swap["0"]) == {"filename", "caption", "negative_caption"}
    count = json.loads((FIXTURES / "countbench" / "CountBench.json").read_text())
    assert {"image_url", "text", "number"} <= set(count[0])
