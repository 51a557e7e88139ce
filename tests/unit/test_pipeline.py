"""Decode/infer overlap: order kept, errors where they belong, bounded look-ahead."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from clipaware.pipeline import batched, embed_stream, ordered_map


def test_results_come_back_in_input_order_whatever_finishes_first() -> None:
    def slow_for_even(x: int) -> int:
        time.sleep(0.02 if x % 2 == 0 else 0.0)
        return x * x

    assert list(ordered_map(slow_for_even, range(10), workers=3, ahead=4)) == [x * x for x in range(10)]
    assert list(ordered_map(slow_for_even, range(5), workers=0)) == [0, 1, 4, 9, 16]


def test_work_really_runs_in_parallel() -> None:
    threads: set[str] = set()

    def note(x: int) -> int:
        threads.add(threading.current_thread().name)
        time.sleep(0.01)
        return x

    list(ordered_map(note, range(8), workers=2, ahead=4))
    assert len(threads) == 2 and all(name.startswith("clipaware-decode") for name in threads)


def test_an_error_surfaces_at_the_failing_item() -> None:
    def fail_on_three(x: int) -> int:
        if x == 3:
            raise ValueError("bad item 3")
        return x

    seen = []
    with pytest.raises(ValueError, match="bad item 3"):
        for value in ordered_map(fail_on_three, range(6), workers=2, ahead=2):
            seen.append(value)
    assert seen == [0, 1, 2]


def test_look_ahead_is_bounded() -> None:
    started = []
    consumed = 0

    def record(x: int) -> int:
        started.append(x)
        return x

    for _ in ordered_map(record, range(100), workers=2, ahead=5):
        consumed += 1
        time.sleep(0.001)
        assert len(started) <= consumed + 5
    assert consumed == 100


def test_batched_and_embed_stream() -> None:
    assert list(batched(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]

    class FakeModel:
        def __init__(self) -> None:
            self.batches: list[int] = []

        def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
            self.batches.append(len(pixels))
            return pixels.reshape(len(pixels), -1)[:, :2].copy()

    model = FakeModel()
    out = list(embed_stream(model, range(5), lambda i: np.full((3, 2, 2), i, np.float32), 2, workers=2))
    assert model.batches == [2, 2, 1]
    np.testing.assert_array_equal(np.concatenate(out)[:, 0], [0, 1, 2, 3, 4])
