"""``ask`` and ``diagnose``: one image, one query, answered through the routes CLIP alone cannot take."""

from __future__ import annotations

from pathlib import Path

import typer

from clipaware.cli import output
from clipaware.cli.app import app
from clipaware.cli.options import (
    DETECTOR_OPT,
    DEVICE_OPT,
    JSON_OPT,
    MODEL_OPT,
    ONNX_CACHE_OPT,
    ORT_SPIN_OPT,
    PRECISION_OPT,
    RUNTIME_OPT,
)


@app.command("ask")
def ask_cmd(
    image: Path = typer.Argument(..., help="The image to ask about."),
    query: str = typer.Argument(..., help='The question, e.g. "how many dogs?" or "a red car left of a truck".'),
    detector: str = DETECTOR_OPT,
    gallery: Path | None = typer.Option(
        None, "--gallery", help="Folder with one sub-folder of photos per identity/class (fine-grained queries)."
    ),
    feature_model: str | None = typer.Option(
        None, "--feature-model", help="Image features for --gallery (default facebook/dinov2-small; or -base)."
    ),
    model: str | None = MODEL_OPT,
    runtime: str | None = RUNTIME_OPT,
    precision: str | None = PRECISION_OPT,
    onnx_cache: Path | None = ONNX_CACHE_OPT,
    ort_spin: bool = ORT_SPIN_OPT,
    device: str | None = DEVICE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Answer QUERY about IMAGE through the route it needs (count, relate, bind, negate, identify, CLIP)."""
    from clipaware.library import lazy_clip_model
    from clipaware.tasks.ask import Toolkit, ask

    clip = lazy_clip_model(
        model, runtime=runtime, precision=precision, device=device, onnx_cache=onnx_cache, ort_spin=ort_spin
    )  # loaded if a route needs it
    kit = Toolkit(clip, detector=detector, gallery=gallery, feature_model=feature_model)
    output.ask_answer(ask(image, query, kit=kit), as_json)


@app.command("diagnose")
def diagnose_cmd(
    image: Path = typer.Option(..., "--image", help="The image CLIP got wrong."),
    query: str = typer.Option(..., "--query", help="The query it got wrong."),
    out_path: Path | None = typer.Option(None, "--out", help="Write a picture: boxes beside a heat-map (PNG)."),
    detector: str = DETECTOR_OPT,
    model: str | None = MODEL_OPT,
    runtime: str | None = RUNTIME_OPT,
    precision: str | None = PRECISION_OPT,
    onnx_cache: Path | None = ONNX_CACHE_OPT,
    ort_spin: bool = ORT_SPIN_OPT,
    device: str | None = DEVICE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Explain an unexpected CLIP result: score vs null, contrastive probes, analyzer verdict, routed answer."""
    from clipaware.library import lazy_clip_model
    from clipaware.tasks.ask import Toolkit
    from clipaware.tasks.diagnose import diagnose

    clip = lazy_clip_model(
        model, runtime=runtime, precision=precision, device=device, onnx_cache=onnx_cache, ort_spin=ort_spin
    )
    output.diagnosis(diagnose(image, query, kit=Toolkit(clip, detector=detector), out=out_path), as_json)
