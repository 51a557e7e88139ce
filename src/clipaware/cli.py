"""The command line: thin wrappers that parse options, call a task and print its result.

No logic lives here. Each command turns options into a task call, then prints the task's result either
pretty (for people) or as JSON (``--json``, for programs). Errors of type :class:`ClipawareError` become a
single line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from clipaware import __version__
from clipaware.errors import ClipawareError

app = typer.Typer(
    name="clipaware",
    help="Image-text matching with CLIP-family models that knows when CLIP is the wrong tool.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def emit_json(payload: Any) -> None:
    """Print one JSON document on stdout (what ``--json`` promises programs)."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")


def _version(value: bool) -> None:
    if value:
        out.print(f"clipaware {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Image-text matching with CLIP-family models that knows when CLIP is the wrong tool."""


# ----------------------------------------------------------------------------------------------- options
JSON_OPT = typer.Option(False, "--json", help="Print JSON for programs instead of text for people.")
DB_OPT = typer.Option(
    None, "--db", help="Index file (default: CLIPAWARE_DB, else the nearest .clipaware.db here or above)."
)
MODEL_OPT = typer.Option(
    None,
    "--model",
    "-m",
    help="Hub name or local folder (default: CLIPAWARE_MODEL, else openai/clip-vit-base-patch32).",
)
K_OPT = typer.Option(10, "-k", "--top-k", min=1, help="How many results.")
RUNTIME_OPT = typer.Option(
    None, "--runtime", help="torch or onnx (default: CLIPAWARE_RUNTIME, else the best for this CPU; see doctor)."
)
PRECISION_OPT = typer.Option(
    None, "--precision", help="fp32, bf16 or int8 (default: CLIPAWARE_PRECISION, else the best for this CPU)."
)


def _engine(runtime: str | None, precision: str | None):
    """The block in which models load with the command's --runtime / --precision."""
    from clipaware.models.runtime import preferred_runtime

    return preferred_runtime(runtime, precision)


def _print_hits(hits: list, as_json: bool, title: str) -> None:
    if as_json:
        emit_json([h.to_dict() for h in hits])
        return
    if not hits:
        out.print("no results (is the index empty?)")
        return
    out.print(f"[bold]{title}[/]")
    for rank, hit in enumerate(hits, 1):  # plain lines: paths are never truncated and stay greppable
        out.print(f"{rank:>3}  {hit.score:6.3f}  {hit.path}", markup=False)


# ---------------------------------------------------------------------------------------------- commands
@app.command("index")
def index_cmd(
    paths: list[Path] = typer.Argument(..., help="Folders (walked recursively) or image files."),
    db: Path | None = typer.Option(None, "--db", help="Index file (default: .clipaware.db in the first folder)."),
    model: str | None = MODEL_OPT,
    batch_size: int | None = typer.Option(
        None, "--batch-size", min=1, help="Images per forward pass (default: what suits the runtime)."
    ),
    runtime: str | None = RUNTIME_OPT,
    precision: str | None = PRECISION_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Embed new and changed images under PATHS into the index; drop removed ones."""
    from clipaware.progress import progress_bar
    from clipaware.tasks.indexing import index_paths

    with _engine(runtime, precision), progress_bar(not as_json, "indexing") as progress:
        report = index_paths(paths, db=db, model=model, batch_size=batch_size, progress=progress)
    if as_json:
        emit_json(report.to_dict())
        return
    out.print(
        f"[bold]{report.db}[/] ({report.model}): [green]{report.added} added[/], {report.updated} updated, "
        f"{report.removed} removed, {report.unchanged} unchanged, "
        f"[{'yellow' if report.skipped else 'default'}]{len(report.skipped)} skipped[/]"
    )
    for item in report.skipped:
        out.print(f"  [yellow]skipped[/] {item.path}: {item.reason}")


@app.command("search")
def search_cmd(
    text: str | None = typer.Argument(None, help="What to look for, in words."),
    image: Path | None = typer.Option(None, "--image", help="Search by this image instead of text."),
    k: int = K_OPT,
    db: Path | None = DB_OPT,
    model: str | None = MODEL_OPT,
    runtime: str | None = RUNTIME_OPT,
    precision: str | None = PRECISION_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Rank indexed images by similarity to TEXT (or to --image)."""
    from clipaware.index.sqlite import ImageIndex
    from clipaware.tasks.search import search

    with _engine(runtime, precision), ImageIndex.open(db) as index:
        hits = search(index, text=text, image=image, k=k, model=model)
    _print_hits(hits, as_json, f"{text!r}" if text is not None else f"like {image}")


@app.command("similar")
def similar_cmd(
    image: Path = typer.Argument(..., help="The image to find look-alikes of."),
    k: int = K_OPT,
    db: Path | None = DB_OPT,
    runtime: str | None = RUNTIME_OPT,
    precision: str | None = PRECISION_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Indexed images most similar to IMAGE (IMAGE itself left out)."""
    from clipaware.index.sqlite import ImageIndex
    from clipaware.tasks.search import similar

    with _engine(runtime, precision), ImageIndex.open(db) as index:
        hits = similar(index, image, k=k)
    _print_hits(hits, as_json, f"similar to {image}")


@app.command("duplicates")
def duplicates_cmd(
    db: Path | None = DB_OPT,
    threshold: float = typer.Option(
        0.95, "--threshold", help="Cosine similarity at or above which two images count as near-duplicates."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Groups of near-duplicate images in the index (re-encodes, resizes, light crops)."""
    from clipaware.index.sqlite import ImageIndex
    from clipaware.tasks.duplicates import find_duplicates

    with ImageIndex.open(db) as index:
        groups = find_duplicates(index, threshold)
    if as_json:
        emit_json([g.to_dict() for g in groups])
        return
    if not groups:
        out.print(f"no near-duplicates at threshold {threshold}")
    for number, group in enumerate(groups, 1):
        out.print(f"[bold]group {number}[/] ({len(group.paths)} images, min similarity {group.min_score:.3f})")
        for path in group.paths:
            out.print(f"  {path}")


@app.command("classify")
def classify_cmd(
    images: list[Path] = typer.Argument(..., help="Image files to classify."),
    labels: str = typer.Option(..., "--labels", "-l", help="Comma-separated labels, e.g. cat,dog,bird."),
    multi_label: bool = typer.Option(False, "--multi-label", help="Independent probability per label."),
    model: str | None = MODEL_OPT,
    runtime: str | None = RUNTIME_OPT,
    precision: str | None = PRECISION_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Zero-shot classification of IMAGES into --labels (prompt ensemble, model's own scoring)."""
    from clipaware.models.clip import ClipModel
    from clipaware.tasks.classify import classify, parse_labels

    with _engine(runtime, precision):
        result = classify(ClipModel.load(model), images, parse_labels(labels), multi_label=multi_label)
    if as_json:
        emit_json(result.to_dict())
    else:
        kind = "independent probabilities" if result.multi_label else "probabilities summing to 1"
        for scores in result.results:
            ranked = sorted(scores.scores.items(), key=lambda kv: -kv[1])
            out.print(f"[bold]{scores.image}[/]: {scores.best}  [dim]({kind})[/]")
            for label, prob in ranked:
                out.print(f"  {prob:6.1%}  {label}")
        for item in result.skipped:
            err.print(f"skipped {item.path}: {item.reason}")
    if result.skipped:
        raise typer.Exit(1)


models_app = typer.Typer(help="The model guide: known models, what each is for, and which are here.")
app.add_typer(models_app, name="models")


@models_app.callback(invoke_without_command=True)
def models_cmd(ctx: typer.Context, as_json: bool = JSON_OPT) -> None:
    """List the known models: family, dimensions, cost, strengths, weaknesses, cached or not."""
    if ctx.invoked_subcommand is not None:
        return
    from clipaware.tasks.catalog import list_models

    entries = list_models()
    if as_json:
        emit_json([e.to_dict() for e in entries])
        return
    table = Table(show_edge=False, show_lines=True)
    for col in ("model", "family", "dims", "GFLOPs/img", "good at", "bad at", "cached"):
        table.add_column(col)
    for e in entries:
        name = e.spec.name + (" [bold](default)[/]" if e.default else "")
        dims = str(e.spec.embedding_dim or "-")
        cached = "[green]yes[/]" if e.cached else "no"
        table.add_row(name, e.spec.family, dims, f"{e.spec.gflops:g}", e.spec.good_at, e.spec.bad_at, cached)
    out.print(table)


@models_app.command("pull")
def models_pull_cmd(
    name: str = typer.Argument(..., help="Hub name, e.g. openai/clip-vit-base-patch32."),
    as_json: bool = JSON_OPT,
) -> None:
    """Download a model into the local Hugging Face cache so it works offline."""
    from clipaware.tasks.catalog import pull_model

    folder = pull_model(name)
    if as_json:
        emit_json({"model": name, "path": str(folder)})
    else:
        out.print(f"{name} is ready at {folder}")


@app.command("doctor")
def doctor_cmd(as_json: bool = JSON_OPT) -> None:
    """Check the installation: versions, CPU features, cached models, and that the default model runs."""
    from clipaware.tasks.doctor import run_doctor

    report = run_doctor()
    if as_json:
        emit_json(report.to_dict())
    else:
        for check in report.checks:
            mark = "[green]✓[/]" if check.ok else ("[red]✗[/]" if check.required else "[yellow]![/]")
            out.print(f"{mark} [bold]{check.name}[/]: {check.detail}")
        out.print("[green]ready[/]" if report.ok else "[red]not ready[/]: fix the ✗ lines above")
    if not report.ok:
        raise typer.Exit(1)


def main() -> None:
    """Console-script entry point: run the app, turning our errors into one line and an exit code."""
    try:
        app()  # standalone: typer/click handle --help, usage errors and their exit codes
    except ClipawareError as exc:
        err.print(f"[bold red]error:[/] {exc}", markup=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
