"""``clipaware eval shapes``: accuracy per task for chance, CLIP alone, and clipaware's routes.

The claim clipaware makes — routing beats CLIP on counting, relations, binding and negation — is only worth
something if it is measured on the same questions side by side. This module builds the probes
(:mod:`clipaware.world.probes`), answers them with CLIP similarity alone and, where clipaware's task
functions exist, with the routes, and reports each accuracy with its number of probes and a 95 % Wilson
interval. A column that could not be measured is ``None`` ("not available"), never a guess.

Split as preprocess → forward → postprocess: :func:`make_probes` builds questions, :func:`clip_only_answers`
and :func:`routed_answers` answer a whole task in batches, :func:`summarise` turns answers into the row.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from clipaware.world.benchmarks import BENCHMARK_ROUTE_NOTE, BENCHMARK_ROUTE_NOTES, BenchmarkItem, load_benchmark
from clipaware.world.probes import TASKS, Probe, make_probes
from clipaware.world.routes import ROUTE_MODULES, Answerer, route_for


@dataclass(frozen=True)
class Accuracy:
    """``correct`` of ``n`` with a 95 % Wilson score interval (well-behaved near 0 and 1, unlike ±1.96·se)."""

    correct: int
    n: int

    @property
    def value(self) -> float:
        return self.correct / self.n if self.n else float("nan")

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.correct, self.n)

    def to_dict(self) -> dict:
        lo, hi = self.interval
        return {
            "accuracy": round(self.value, 4),
            "ci95": [round(lo, 4), round(hi, 4)],
            "correct": self.correct,
        }


def wilson_interval(correct: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95 % Wilson score interval for a binomial proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class TaskResult:
    """One row of the table: chance, CLIP-only and routed accuracy (``None`` when not measured)."""

    task: str
    n: int
    chance: float
    clip_only: Accuracy | None
    routed: Accuracy | None
    routed_note: str = ""
    skipped: int = 0

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "chance": round(self.chance, 4),
            "clip_only": None if self.clip_only is None else round(self.clip_only.value, 4),
            "clip_only_ci95": None if self.clip_only is None else self.clip_only.to_dict()["ci95"],
            "routed": None if self.routed is None else round(self.routed.value, 4),
            "routed_ci95": None if self.routed is None else self.routed.to_dict()["ci95"],
            "routed_note": self.routed_note,
            "skipped": self.skipped,
        }


@dataclass(frozen=True)
class EvalReport:
    """The whole table plus what produced it (model, seed), so a number can be traced and reproduced."""

    model: str
    seed: int
    tasks: tuple[TaskResult, ...]
    benchmark: str = "shapes"

    def to_dict(self) -> dict:
        return {
            "benchmark": self.benchmark,
            "model": self.model,
            "seed": self.seed,
            "tasks": {t.task: t.to_dict() for t in self.tasks},
        }


def clip_only_answers(probes: Sequence[Probe], clip: Any) -> list[int]:
    """Answer each probe by CLIP similarity alone, the way a CLIP user would.

    ``choose_text``: the most similar text; ``choose_image``: the most similar image; ``yes_no``: "holds"
    when the statement beats every alternative (e.g. "exactly three" beats "exactly two", "exactly four" …).
    Images and texts are encoded in batches across the probes.
    """
    images = [img for p in probes for img in p.images]
    texts = sorted({t for p in probes for t in p.texts})
    image_emb = clip.encode_images(images) if images else np.zeros((0, 0), dtype=np.float32)
    text_emb = dict(zip(texts, clip.encode_texts(texts), strict=True))
    answers, cursor = [], 0
    for probe in probes:
        imgs = image_emb[cursor : cursor + len(probe.images)]
        cursor += len(probe.images)
        txts = np.stack([text_emb[t] for t in probe.texts])
        sims = imgs @ txts.T  # (images, texts)
        if probe.kind == "choose_text":
            answers.append(int(np.argmax(sims[0])))
        elif probe.kind == "choose_image":
            answers.append(int(np.argmax(sims[:, 0])))
        elif probe.kind == "yes_no":
            answers.append(int(np.argmax(sims[0]) == 0))
        else:
            raise ValueError(f"unknown probe kind {probe.kind!r}")
    return answers


def evaluate_probes(
    task: str,
    probes: Iterable[Probe],
    clip: Any,
    *,
    route: Answerer | None,
    note: str = "",
    detector: Any = None,
    chunk: int = 64,
) -> TaskResult:
    """Score one task's probes with CLIP alone and with ``route`` (when given), ``chunk`` probes at a time.

    Chunking keeps memory flat on real benchmarks with thousands of photographs. Without a route the
    routed column is ``None`` with ``note`` saying why.
    """
    chances: list[float] = []
    clip_correct = routed_correct = 0
    batch: list[Probe] = []

    def flush() -> None:
        nonlocal clip_correct, routed_correct
        if not batch:
            return
        answers = clip_only_answers(batch, clip)
        clip_correct += sum(int(a == p.answer) for a, p in zip(answers, batch, strict=True))
        if route is not None:
            routed = [int(route(p, clip, detector)) for p in batch]
            routed_correct += sum(int(a == p.answer) for a, p in zip(routed, batch, strict=True))
        batch.clear()

    for probe in probes:
        chances.append(probe.chance)
        batch.append(probe)
        if len(batch) >= chunk:
            flush()
    flush()
    n = len(chances)
    chance = float(np.mean(chances)) if chances else float("nan")
    clip_acc = Accuracy(clip_correct, n) if n else None
    routed_acc = Accuracy(routed_correct, n) if (route is not None and n) else None
    return TaskResult(task, n, chance, clip_acc, routed_acc, "" if route is not None else note)


def evaluate_shapes(
    clip: Any,
    *,
    n: int = 200,
    seed: int = 0,
    tasks: Sequence[str] = TASKS,
    detector: Any = None,
    model_name: str = "",
    via: str = "tasks",
) -> EvalReport:
    """Build ``n`` probes per task from ``seed`` and score chance, CLIP-only and (when installed) routed.

    ``via`` says how the routed column is answered: ``tasks`` calls the route functions with the probe's
    structured objects; ``ask`` gives ``ask`` the probe's words, so the query analyzer is measured too.
    """
    if detector is None:
        from clipaware.models.detect import ShapeDetector

        detector = ShapeDetector()
    rows = tuple(
        evaluate_probes(
            task,
            make_probes(task, n, seed),
            clip,
            route=route_for(task, via),
            note=f"{ROUTE_MODULES[task]} is not installed",
            detector=detector,
        )
        for task in tasks
    )
    return EvalReport(model=model_name, seed=seed, tasks=rows)


def _benchmark_probes(items: Iterable[BenchmarkItem], limit: int | None) -> Iterator[Probe]:
    from clipaware.images import load_image

    for i, item in enumerate(items):
        if limit is not None and i >= limit:
            return
        yield Probe(
            task=item.subset,
            kind="choose_text",
            question=item.texts[item.answer],
            texts=item.texts,
            images=(load_image(item.image_path),),
            scenes=(),
            answer=item.answer,
            query=dict(item.meta),
        )


def evaluate_benchmark(
    name: str,
    data_dir: str | Path,
    clip: Any,
    *,
    images: str | Path | None = None,
    limit: int | None = None,
    detector: Any = None,
    model_name: str = "",
) -> EvalReport:
    """Chance / CLIP-only / routed per subset of a real benchmark (at most ``limit`` items per subset)."""
    data = load_benchmark(name, data_dir, images)
    rows = []
    for subset, items in data.subsets.items():
        row = evaluate_probes(
            subset,
            _benchmark_probes(items, limit),
            clip,
            route=None,
            note=BENCHMARK_ROUTE_NOTES.get(subset, BENCHMARK_ROUTE_NOTE),
            detector=detector,
        )
        rows.append(replace(row, skipped=data.skipped.get(subset, 0)))
    return EvalReport(model=model_name, seed=0, tasks=tuple(rows), benchmark=name)
