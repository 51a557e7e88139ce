"""``eval``: measure CLIP alone against clipaware's routes, on the shapes world and on real benchmarks."""

from __future__ import annotations

from pathlib import Path

import typer

from clipaware.cli import output
from clipaware.cli.app import app
from clipaware.cli.options import DEVICE_OPT, JSON_OPT, MODEL_OPT, ONNX_CACHE_OPT, PRECISION_OPT, RUNTIME_OPT
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
    model: str | None = typer.Option(
        None, "--model", "-m", help="CLIP to test (default: shapes-clip, the shapes CLIP shipped in the package)."
    ),
    via: str = typer.Option(
        "tasks", "--via", help="Routed column: 'tasks' (route functions on the probe's objects) or 'ask' (its words)."
    ),
    runtime: str | None = RUNTIME_OPT,
    precision: str | None = PRECISION_OPT,
    onnx_cache: Path | None = ONNX_CACHE_OPT,
    device: str | None = DEVICE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Accuracy per task (count, relations, binding, negation): chance, CLIP-only and routed."""
    from clipaware.models.clip import ClipModel
    from clipaware.models.registry import SHAPES_MODEL
    from clipaware.world.evaluate import evaluate_shapes

    if via not in ("tasks", "ask"):
        raise UsageError("--via takes 'tasks' or 'ask'")
    clip = ClipModel.load(
        model or SHAPES_MODEL, runtime=runtime, precision=precision, device=device, onnx_cache=onnx_cache
    )
    output.status(f"measuring {n} probes per task on {clip.name}: 6 tasks, CLIP alone and routed")
    report = evaluate_shapes(clip, n=n, seed=seed, model_name=clip.name, via=via)
    output.eval_report(report, as_json)


@eval_app.command("scenes")
def eval_scenes_cmd(
    folder: Path = typer.Argument(..., metavar="FOLDER", help="Where to write the scenes (created if missing)."),
    n: int = typer.Option(12, "--n", min=1, help="How many scenes."),
    seed: int = typer.Option(0, "--seed", help="Same seed, same pixels."),
    as_json: bool = JSON_OPT,
) -> None:
    """Write shapes-world scenes (PNG) and scenes.txt (what each shows) to FOLDER: something to try clipaware
    on with no download (index it with --model shapes, ask with --detector shapes)."""
    from clipaware.world.scenes import write_scenes

    output.scenes_written(write_scenes(folder, n=n, seed=seed), as_json)


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
        device: str | None = DEVICE_OPT,
        as_json: bool = JSON_OPT,
    ) -> None:
        from clipaware.models.clip import ClipModel
        from clipaware.world.evaluate import evaluate_benchmark

        clip = ClipModel.load(model, runtime=runtime, precision=precision, device=device, onnx_cache=onnx_cache)
        report = evaluate_benchmark(benchmark, data, clip, images=images, limit=limit, model_name=clip.name)
        output.eval_report(report, as_json)

    command.__doc__ = f"{title}: chance, CLIP-only and routed accuracy per subset, from files you downloaded."
    eval_app.command(benchmark)(command)


_benchmark_command("whatsup", "What'sUp")
_benchmark_command("sugarcrepe", "SugarCrepe")
_benchmark_command("countbench", "CountBench")
