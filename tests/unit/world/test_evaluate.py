"""The evaluator: CLIP-only decisions per probe kind, routed column only when a route exists, intervals."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
from PIL import Image

from clipaware.world.evaluate import (
    Accuracy,
    clip_only_answers,
    evaluate_probes,
    find_route,
    format_accuracy,
    wilson_interval,
)
from clipaware.world.probes import Probe, make_probes


class LookupClip:
    """A fake encoder whose image and text vectors are given by hand, so every decision is predictable."""

    def __init__(self, images: dict[int, list[float]], texts: dict[str, list[float]]) -> None:
        self.images, self.texts = images, texts

    def encode_images(self, items):
        return np.array([self.images[id(i)] for i in items], dtype=np.float32)

    def encode_texts(self, texts):
        return np.array([self.texts[t] for t in texts], dtype=np.float32)


def _probe(kind: str, images, texts, answer: int) -> Probe:
    return Probe("t", kind, texts[0], tuple(texts), tuple(images), (), answer, {})


def test_clip_only_decisions_per_kind() -> None:
    a, b = Image.new("RGB", (2, 2)), Image.new("RGB", (2, 2))
    clip = LookupClip(
        {id(a): [1, 0], id(b): [0, 1]},
        {"x": [1, 0], "y": [0.6, 0.8], "z": [0, 1]},
    )
    probes = [
        _probe("choose_text", [a], ["z", "y", "x"], 2),  # a is most like x (index 2)
        _probe("choose_text", [b], ["x", "z"], 0),  # b is most like z (index 1): wrong
        _probe("choose_image", [a, b], ["z"], 1),  # z matches b
        _probe("yes_no", [a], ["x", "y", "z"], 1),  # the statement x wins: holds
        _probe("yes_no", [b], ["x", "y", "z"], 0),  # z wins over the statement x: does not hold
    ]
    assert clip_only_answers(probes, clip) == [2, 1, 1, 1, 0]
    result = evaluate_probes("t", probes, clip, route_module=None)
    assert (result.n, result.clip_only.correct) == (5, 4)
    assert result.routed is None and "CLIP is the right tool" in result.routed_note


def test_wilson_interval_matches_known_values() -> None:
    lo, hi = wilson_interval(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-4) and hi == pytest.approx(0.5962, abs=1e-4)
    lo, hi = wilson_interval(0, 20)
    assert lo == 0.0 and hi == pytest.approx(0.1611, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert format_accuracy(Accuracy(50, 100)) == "0.50 [0.40–0.60]"
    assert format_accuracy(None) == "not available"


def test_missing_route_reads_not_available() -> None:
    assert find_route("clipaware.tasks.no_such_route_module") is None
    assert find_route(None) is None


def test_installed_route_is_called_and_scored(monkeypatch: pytest.MonkeyPatch) -> None:
    probes = make_probes("binding", 20, seed=1)
    calls = []

    def answer_probe(probe, *, clip, detector):
        calls.append(detector)
        return probe.answer if probe.texts[0] < probe.texts[1] else 1 - probe.answer  # right on some only

    module = types.ModuleType("fake_bind_route")
    module.answer_probe = answer_probe
    monkeypatch.setitem(sys.modules, "fake_bind_route", module)
    clip = LookupClip({id(i): [1, 0] for p in probes for i in p.images}, {t: [1, 0] for p in probes for t in p.texts})
    result = evaluate_probes("binding", probes, clip, route_module="fake_bind_route", detector="det", chunk=7)
    expected = sum(p.texts[0] < p.texts[1] for p in probes)
    assert result.routed is not None and result.routed.correct == expected and result.routed.n == 20
    assert calls == ["det"] * 20
    assert result.to_dict()["routed"] == round(expected / 20, 4)


def test_a_broken_route_is_an_error_not_a_blank(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("broken_route")
    module.__path__ = []  # a package whose submodule import fails inside, not because it is missing

    def answer_probe(probe, *, clip, detector):
        raise RuntimeError("bug in the route")

    module.answer_probe = answer_probe
    monkeypatch.setitem(sys.modules, "broken_route", module)
    probes = make_probes("negation", 2)
    clip = LookupClip({id(i): [1, 0] for p in probes for i in p.images}, {t: [1, 0] for p in probes for t in p.texts})
    with pytest.raises(RuntimeError, match="bug in the route"):
        evaluate_probes("negation", probes, clip, route_module="broken_route")
