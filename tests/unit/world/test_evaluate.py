"""The evaluator: CLIP-only decisions per probe kind, routed column only when a route exists, intervals."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from clipaware.cli.output import format_accuracy
from clipaware.world.evaluate import (
    Accuracy,
    clip_only_answers,
    evaluate_probes,
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
    result = evaluate_probes("t", probes, clip, route=None, note="no route here")
    assert (result.n, result.clip_only.correct) == (5, 4)
    assert result.routed is None and result.routed_note == "no route here"


def test_wilson_interval_matches_known_values() -> None:
    lo, hi = wilson_interval(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-4) and hi == pytest.approx(0.5962, abs=1e-4)
    lo, hi = wilson_interval(0, 20)
    assert lo == 0.0 and hi == pytest.approx(0.1611, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert format_accuracy(Accuracy(50, 100)) == "0.50 [0.40–0.60]"
    assert format_accuracy(None) == "not available"


def test_route_is_not_available_when_its_task_module_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from clipaware.world import routes

    monkeypatch.setitem(routes.ROUTE_MODULES, "binding", "clipaware.tasks.no_such_route_module")
    assert routes.route_for("binding") is None
    monkeypatch.setitem(routes.ROUTE_MODULES, "binding", "clipaware.tasks.bind")
    assert routes.route_for("binding") is routes.answer_binding


def test_a_given_route_is_called_in_chunks_and_scored() -> None:
    probes = make_probes("binding", 20, seed=1)
    calls = []

    def route(probe, clip, detector):
        calls.append(detector)
        return probe.answer if probe.texts[0] < probe.texts[1] else 1 - probe.answer  # right on some only

    clip = LookupClip({id(i): [1, 0] for p in probes for i in p.images}, {t: [1, 0] for p in probes for t in p.texts})
    result = evaluate_probes("binding", probes, clip, route=route, detector="det", chunk=7)
    expected = sum(p.texts[0] < p.texts[1] for p in probes)
    assert result.routed is not None and result.routed.correct == expected and result.routed.n == 20
    assert calls == ["det"] * 20 and result.routed_note == ""
    assert result.to_dict()["routed"] == round(expected / 20, 4)


def test_a_broken_route_is_an_error_not_a_blank() -> None:
    def route(probe, clip, detector):
        raise RuntimeError("bug in the route")

    probes = make_probes("negation", 2)
    clip = LookupClip({id(i): [1, 0] for p in probes for i in p.images}, {t: [1, 0] for p in probes for t in p.texts})
    with pytest.raises(RuntimeError, match="bug in the route"):
        evaluate_probes("negation", probes, clip, route=route)
