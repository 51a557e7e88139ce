"""Print every figure the shapes world reports: the model's retrieval quality, its pinned behaviours,
the detector's exact-count rate, and the `eval shapes` table — all from fixed seeds, in one run.

    PYTHONPATH=src python benchmarks/shapes_world.py [--n 200]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter

import numpy as np

from clipaware.cli.output import format_accuracy
from clipaware.models.clip import ClipModel
from clipaware.models.detect import ShapeDetector
from clipaware.world import SHAPES_CLIP_PATH
from clipaware.world.evaluate import evaluate_shapes
from clipaware.world.scenes import COLOURS, SHAPES, ObjectSpec, generate_scenes, make_scene


def single(rng: np.random.Generator, colour: str, shape: str):
    return make_scene(rng, [ObjectSpec(shape, colour, str(rng.choice(["small", "large"])))])


def recall_at_1(clip: ClipModel, seed: int, repeats: int) -> float:
    rng = np.random.default_rng(seed)
    texts = [f"a {c} {s}" for c in COLOURS for s in SHAPES]
    t = clip.encode_texts(texts)
    hits = 0
    for _ in range(repeats):
        v = clip.encode_images([single(rng, c, s).image for c in COLOURS for s in SHAPES])
        hits += int(((t @ v.T).argmax(axis=1) == np.arange(len(texts))).sum())
    return hits / (repeats * len(texts))


def pair_rate(clip: ClipModel, seed: int, n: int, differ: str) -> float:
    """How often "a c1 s1" prefers the (c1, s1) scene over one differing in colour, shape or both."""
    rng = np.random.default_rng(seed)
    wins = 0
    for _ in range(n):
        (c1, c2), (s1, s2) = rng.choice(list(COLOURS), 2, replace=False), rng.choice(list(SHAPES), 2, replace=False)
        other = {"both": (c2, s2), "colour": (c2, s1), "shape": (c1, s2)}[differ]
        t = clip.encode_texts([f"a {c1} {s1}"])[0]
        v = clip.encode_images([single(rng, c1, s1).image, single(rng, *other).image])
        wins += int(v[0] @ t > v[1] @ t)
    return wins / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="probes per task in the eval table")
    args = parser.parse_args()
    clip = ClipModel.load(SHAPES_CLIP_PATH)
    figures: dict[str, float] = {}
    figures["r_at_1_single_object_32way"] = recall_at_1(clip, 4242, repeats=5)
    rng = np.random.default_rng(777)
    reds = clip.encode_images([single(rng, "red", "circle").image for _ in range(200)])
    blues = clip.encode_images([single(rng, "blue", "square").image for _ in range(200)])
    t = clip.encode_texts(["a red circle"])[0]
    figures["red_circle_over_blue_square"] = float(np.mean(reds @ t > blues @ t))
    for differ in ("both", "colour", "shape"):
        figures[f"pair_differs_in_{differ}"] = pair_rate(clip, 900, 200, differ)

    detector = ShapeDetector()
    scenes = generate_scenes(1000, seed=2024)
    start = time.perf_counter()
    exact = sum(
        Counter(d.label for d in detector.detect(s.image)) == Counter(o.shape for o in s.objects) for s in scenes
    )
    figures["detector_exact_count_1000_scenes"] = exact / len(scenes)
    figures["detector_ms_per_scene"] = 1000 * (time.perf_counter() - start) / len(scenes)
    print(json.dumps({k: round(v, 4) for k, v in figures.items()}, indent=2))

    report = evaluate_shapes(clip, n=args.n, seed=0, model_name="shapes-clip")
    print("\n| task | n | chance | CLIP-only [95% CI] | routed |\n|---|---|---|---|---|")
    for row in report.tasks:
        print(
            f"| {row.task} | {row.n} | {row.chance:.2f} | {format_accuracy(row.clip_only)} | "
            f"{format_accuracy(row.routed)} |"
        )


if __name__ == "__main__":
    main()
