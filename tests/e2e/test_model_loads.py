"""Every command loads each model at most once: names are resolved at the door, loaded objects flow down.

Each load through the real loaders (``ClipModel.load``, the detectors' weight loader, ``FeatureModel.load``)
is counted while the command runs in-process, exactly as the console script runs it. Before the opened
library, ``search --routed`` loaded CLIP twice (once for the toolkit, once more inside ``search``).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image
from skimage import data
from tests.helpers import run

from clipaware.models import detect
from clipaware.models.clip import ClipModel
from clipaware.models.features import FeatureModel
from clipaware.models.fixtures import save_tiny_model


@pytest.fixture(scope="module")
def detectors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("det")
    return {kind: save_tiny_model(root / kind, kind, image_size=64) for kind in ("detr", "owlv2", "dinov2")}


@pytest.fixture()
def loads(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, str]]:
    """(what, name) → how many times it was loaded since the last ``clear()``."""
    counts: Counter[tuple[str, str]] = Counter()
    clip_load = ClipModel.load.__func__  # type: ignore[attr-defined]
    features_load = FeatureModel.load.__func__  # type: ignore[attr-defined]
    detector_load = detect._load

    def count_clip(cls, name=None, **kwargs):
        model = clip_load(cls, name, **kwargs)
        counts["clip", model.name] += 1
        return model

    def count_features(cls, name=None, **kwargs):
        model = features_load(cls, name, **kwargs)
        counts["features", model.name] += 1
        return model

    def count_detector(name, kind):
        counts[kind, str(name)] += 1
        return detector_load(name, kind)

    monkeypatch.setattr(ClipModel, "load", classmethod(count_clip))
    monkeypatch.setattr(FeatureModel, "load", classmethod(count_features))
    monkeypatch.setattr(detect, "_load", count_detector)
    return counts


@pytest.fixture()
def env(tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLIPAWARE_MODEL", str(tiny_clip_dir))
    monkeypatch.delenv("CLIPAWARE_DB", raising=False)
    return tiny_clip_dir


@pytest.fixture()
def gallery(tmp_path: Path) -> Path:
    root = tmp_path / "gallery"
    for label, picture in (("cat", data.chelsea()), ("coffee", data.coffee())):
        (root / label).mkdir(parents=True)
        Image.fromarray(picture).save(root / label / "1.jpg")
    return root


def _once_each(counts: Counter[tuple[str, str]], *expected: str) -> None:
    """Every model loaded at most once, and each ``expected`` kind loaded (so the count means something)."""
    assert all(n == 1 for n in counts.values()), dict(counts)
    kinds = {kind for kind, _ in counts}
    assert set(expected) <= kinds, (expected, dict(counts))


def test_every_command_loads_each_model_at_most_once(
    photo_folder: Path, env: Path, detectors: dict[str, Path], gallery: Path, loads, capsys, monkeypatch, tmp_path
) -> None:
    def command(*args: object, expect: tuple[str, ...] = ()) -> str:
        loads.clear()
        code, out, err = run(capsys, monkeypatch, *args)
        assert code == 0, (args, err)
        _once_each(loads, *expect)
        return out

    coffee, cat = photo_folder / "coffee.jpg", photo_folder / "sub" / "chelsea.png"
    command("index", photo_folder, "--json", expect=("clip",))
    command("index", photo_folder, "--json")  # nothing changed: no model at all
    assert not loads
    monkeypatch.chdir(photo_folder)
    command("search", "a photo of a cat.", "--json", expect=("clip",))
    command("search", "--image", coffee, "--json")  # an indexed, unchanged image: its stored vector
    command("similar", coffee, "--json")
    command("duplicates", "--threshold", "0.5", "--json")
    assert not loads
    out = command(
        "search", "how many red cups?", "--routed", "--detector", detectors["detr"], "--json", expect=("clip", "detr")
    )
    assert json.loads(out)["routes"] == ["count"] and json.loads(out)["examined"] == 4  # CLIP scored every hit
    command("classify", coffee, cat, "--labels", "cup,cat", "--json", expect=("clip",))
    command("ask", coffee, "a red cup left of a blue plate", "--detector", detectors["owlv2"], "--json",
            expect=("clip", "owlv2"))  # fmt: skip
    command("ask", coffee, "how many cups?", "--detector", detectors["detr"], "--json", expect=("detr",))
    assert ("clip", str(env)) not in loads  # no attribute to judge: CLIP is never loaded
    command("ask", cat, "is this Luna the cat?", "--gallery", gallery, "--feature-model", detectors["dinov2"],
            "--json")  # fmt: skip
    command("diagnose", "--image", coffee, "--query", "two cups but no spoons", "--detector", detectors["detr"],
            "--out", tmp_path / "why.png", "--json", expect=("clip", "detr"))  # fmt: skip
    command("eval", "shapes", "--n", "2", "--via", "ask", "--json", expect=("clip",))
