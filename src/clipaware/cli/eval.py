"""``eval``: measure CLIP alone against clipaware's routes, on the shapes world and on real benchmarks."""

from __future__ import annotations

from pathlib import Path

import typer

from clipaware.cli import output
from clipaware.cli.app import app
from clipaware.cli.options import (
    DEVICE_OPT,
    JSON_OPT,
    MODEL_OPT,
    ONNX_CACHE_OPT,
    ORT_SPIN_OPT,
    PRECISION_OPT,
    RUNTIME_OPT,
)
from clipaware.errors import UsageError

eval_app = typer.Typer(
    help="Measure CLIP alone against clipaware's routes: the shapes world and real benchmarks.",
    no_args_is_help=True,
)
app.add_typer(eval_app, name="eval")


@eval_app.command("shapes")
def eval_shapes_cmd(
    n: int = typer.Option(200, "--n", min=1, help="Probes per task."),
    seed: int = typer.Option(0, "--seed", help="Seed of the probe scenes (same seed, same numbers)."),
    model: str | None = typer.Option(None, "--model", "-m", help="CLIP to test (default: the shapes CLIP)."),
    via: str = typer.Option(
        "tasks", "--via", help="Routed column: 'tasks' (route functions on the probe's objects) or 'ask' (its words)."
    ),
    runtime: str | None = RUNTIME_OPT,
    precision: str | None = PRECISION_OPT,
    onnx_cache: Path | None = ONNX_CACHE_OPT,
    ort_spin: bool = ORT_SPIN_OPT,
    device: str | None = DEVICE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Accuracy per task (count, relations, binding, negation): chance, CLIP-only and routed."""
    from clipaware.models.clip import ClipModel
    from clipaware.world import SHAPES_CLIP_PATH
    from clipaware.world.evaluate import evaluate_shapes

    name = model or str(SHAPES_CLIP_PATH)
    if via not in ("tasks", "ask"):
        raise UsageError("--via takes 'tasks' or 'ask'")
    clip = ClipModel.load(
        name, runtime=runtime, precision=precision, device=device, onnx_cache=onnx_cache, ort_spin=ort_spin
    )
    report = evaluate_shapes(clip, n=n, seed=seed, model_name=model or "shapes-clip", via=via)
    output.eval_report(report, as_json)


def _benchmark_command(benchmark: str, title: str) -> None:
    def command(
        data: Path = typer.Option(..., "--data", help=f"Folder holding the downloaded {title} files."),
        model: str | None = MODEL_OPT,
        images: Path | None = typer.Option(
            None, "--images", help="Image folder when not inside --data (SugarCrepe: COCO val2017)."
        ),
        limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many items per subset."),
        runtime: str | None = RUNTIME_OPT,
        precision: str | None = PRECISION_OPT,
        onnx_cache: Path | None = ONNX_CACHE_OPT,
        ort_spin: bool = ORT_SPIN_OPT,
        device: str | None = DEVICE_OPT,
        as_json: bool = JSON_OPT,
    ) -> None:
        from clipaware.models.clip import ClipModel
        from clipaware.world.evaluate import evaluate_benchmark

        clip = ClipModel.load(
            model, runtime=runtime, precision=precision, device=device, onnx_cache=onnx_cache, ort_spin=ort_spin
        )
        report = evaluate_benchmark(benchmark, data, clip, images=images, limit=limit, model_name=clip.name)
        output.eval_report(report, as_json)

    command.__doc__ = f"{title}: chance, CLIP-only and routed accuracy per subset, from files you downloaded."
    eval_app.command(benchmark)(command)


_benchmark_command("whatsup", "What'sUp")
_benchmark_command("sugarcrepe", "SugarCrepe")
_benchmark_command("countbench", "CountBench")
