"""``classify``: zero-shot labels for images, with the model's own scoring."""

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


@app.command("classify")
def classify_cmd(
    images: list[Path] = typer.Argument(..., help="Image files to classify."),
    labels: str = typer.Option(..., "--labels", "-l", help="Comma-separated labels, e.g. cat,dog,bird."),
    multi_label: bool = typer.Option(False, "--multi-label", help="Independent probability per label."),
    model: str | None = MODEL_OPT,
    runtime: str | None = RUNTIME_OPT,
    precision: str | None = PRECISION_OPT,
    onnx_cache: Path | None = ONNX_CACHE_OPT,
    ort_spin: bool = ORT_SPIN_OPT,
    device: str | None = DEVICE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Zero-shot classification of IMAGES into --labels (prompt ensemble, model's own scoring)."""
    from clipaware.models.clip import ClipModel
    from clipaware.tasks.classify import classify, parse_labels

    wanted = parse_labels(labels)  # a bad --labels fails before any model loads
    clip = ClipModel.load(
        model, runtime=runtime, precision=precision, device=device, onnx_cache=onnx_cache, ort_spin=ort_spin
    )
    result = classify(clip, images, wanted, multi_label=multi_label)
    output.classification(result, as_json)
    if result.skipped:
        raise typer.Exit(1)
