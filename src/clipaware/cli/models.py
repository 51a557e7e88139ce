"""``models`` (the model guide), ``models pull`` (fetch one for offline use) and ``doctor``."""

from __future__ import annotations

from pathlib import Path

import typer

from clipaware.cli import output
from clipaware.cli.app import app
from clipaware.cli.options import JSON_OPT, MODEL_OPT, ONNX_CACHE_OPT, PRECISION_OPT, RUNTIME_OPT

models_app = typer.Typer(help="The model guide: known models, what each is for, and which are here.")
app.add_typer(models_app, name="models")


@models_app.callback(invoke_without_command=True)
def models_cmd(
    ctx: typer.Context,
    model: str | None = MODEL_OPT,
    onnx_cache: Path | None = ONNX_CACHE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """List the known models: family, dimensions, cost, strengths, weaknesses, cached or not, and which
    ONNX engines are exported for each (with their size)."""
    if ctx.invoked_subcommand is not None:
        return
    from clipaware.tasks.catalog import list_models, other_engines

    entries = list_models(default=model, onnx_cache=onnx_cache)
    output.model_guide(entries, as_json, other_engines(entries, onnx_cache))


@models_app.command("prune")
def models_prune_cmd(onnx_cache: Path | None = ONNX_CACHE_OPT, as_json: bool = JSON_OPT) -> None:
    """Delete exported ONNX engines that the installed torch / onnx / onnxruntime would not load."""
    from clipaware.tasks.catalog import prune

    output.pruned(prune(onnx_cache), as_json)


@models_app.command("pull")
def models_pull_cmd(
    name: str = typer.Argument(..., help="Hub name, e.g. openai/clip-vit-base-patch32."),
    as_json: bool = JSON_OPT,
) -> None:
    """Download a model into the local Hugging Face cache so it works offline."""
    from clipaware.tasks.catalog import pull_model

    output.pulled(name, pull_model(name), as_json)


@app.command("doctor")
def doctor_cmd(
    model: str | None = MODEL_OPT,
    runtime: str | None = RUNTIME_OPT,
    precision: str | None = PRECISION_OPT,
    onnx_cache: Path | None = ONNX_CACHE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Check the installation: versions, CPU features, cached models, and that the default model runs."""
    from clipaware.tasks.doctor import run_doctor

    report = run_doctor(model=model, runtime=runtime, precision=precision, onnx_cache=onnx_cache)
    output.doctor_report(report, as_json)
    if not report.ok:
        raise typer.Exit(1)
