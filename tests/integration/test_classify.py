"""Zero-shot classification: prompt ensembles and the model's own scoring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data
from tests.conftest import ENGINE

from clipaware import ClipModel
from clipaware.errors import UsageError
from clipaware.tasks.classify import classify, ensemble_embeddings, parse_labels
from clipaware.tasks.prompts import TEMPLATES

LABELS = ("cat", "dog", "car")


@pytest.fixture(scope="module")
def photos() -> list[Image.Image]:
    return [Image.fromarray(data.chelsea()), Image.fromarray(data.coffee())]


def test_labels_are_parsed_trimmed_and_deduplicated() -> None:
    assert parse_labels(" cat, dog,,cat , red car ") == ("cat", "dog", "red car")


def test_ensemble_is_the_renormalised_mean_of_the_templates(tiny_clip_dir: Path) -> None:
    model = ClipModel.load(tiny_clip_dir, **ENGINE)
    got = ensemble_embeddings(model, ["cat"])[0]
    mean = model.encode_texts([t.format("cat") for t in TEMPLATES]).mean(axis=0)
    np.testing.assert_allclose(got, mean / np.linalg.norm(mean), atol=1e-6)
    assert not np.allclose(got, model.encode_texts(["a photo of a cat."])[0], atol=1e-3)


def test_clip_single_label_probabilities_sum_to_one(tiny_clip_dir: Path, photos) -> None:
    result = classify(ClipModel.load(tiny_clip_dir, **ENGINE), photos, LABELS)
    assert len(result.results) == 2 and not result.multi_label
    for row in result.results:
        assert sum(row.scores.values()) == pytest.approx(1.0, abs=1e-5)
        assert list(row.scores) == list(LABELS)
    assert result.results[0].scores != result.results[1].scores


def test_clip_multi_label_gives_independent_probabilities(tiny_clip_dir: Path, photos) -> None:
    result = classify(ClipModel.load(tiny_clip_dir, **ENGINE), photos, LABELS, multi_label=True)
    values = np.array([list(r.scores.values()) for r in result.results])
    assert ((values > 0) & (values < 1)).all()
    assert not np.allclose(values.sum(axis=1), 1.0)
    single = classify(ClipModel.load(tiny_clip_dir, **ENGINE), photos, ["cat"], multi_label=True)
    assert 0 < single.results[0].scores["cat"] < 1


def test_siglip_uses_sigmoids_that_do_not_sum_to_one(tiny_siglip_dir: Path, photos) -> None:
    model = ClipModel.load(tiny_siglip_dir, **ENGINE)
    result = classify(model, photos, LABELS)
    assert result.multi_label
    sums = [sum(r.scores.values()) for r in result.results]
    assert not np.allclose(sums, 1.0)
    logits = model.logits(model.encode_images(photos[:1]), ensemble_embeddings(model, LABELS))[0]
    expected = 1 / (1 + np.exp(-logits))
    assert list(result.results[0].scores.values()) == pytest.approx(list(expected), abs=1e-5)


def test_bad_images_are_reported_and_good_ones_classified(tiny_clip_dir: Path, tmp_path: Path, photos) -> None:
    good = tmp_path / "cat.png"
    photos[0].save(good)
    bad = tmp_path / "bad.jpg"
    bad.write_text("no")
    result = classify(ClipModel.load(tiny_clip_dir, **ENGINE), [good, bad], LABELS)
    assert [r.image for r in result.results] == [str(good)]
    assert result.skipped[0].path == str(bad) and "not an image" in result.skipped[0].reason
    assert result.to_dict()[1] == {"image": str(bad), "error": result.skipped[0].reason}


def test_one_label_softmax_is_refused(tiny_clip_dir: Path, photos) -> None:
    with pytest.raises(UsageError, match="two or more labels"):
        classify(ClipModel.load(tiny_clip_dir, **ENGINE), photos, ["cat"])
    with pytest.raises(UsageError):
        classify(ClipModel.load(tiny_clip_dir, **ENGINE), photos, [])
