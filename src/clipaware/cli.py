"""The command line: thin wrappers that parse options, call a task and print its result.

No logic lives here. Each command turns options into a task call, then prints the task's result either
pretty (for people) or as JSON (``--json``, for programs). Errors of type :class:`ClipawareError` become a
single line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from clipaware import __version__
from clipaware.errors import ClipawareError, UsageError
from clipaware.tasks.results import answer_words as _say

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
DETECTOR_OPT = typer.Option(
    "auto", "--detector", help="auto (DETR for COCO nouns, else OWLv2), detr, owlv2, shapes, or a model folder."
)
STORE_OPT = typer.Option(
    None,
    "--store",
    help="Where vectors live instead of --db: FILE (SQLite), milvus://HOST:PORT[/COLLECTION], milvus-lite:FILE.",
)
EXACT_OPT = typer.Option(False, "--exact", help="Scan every vector instead of the ANN index (slower, exact).")
GLOB_OPT = typer.Option(None, "--glob", help="Only paths matching this glob (* crosses folders), e.g. '*/2024/*'.")
FOLDER_OPT = typer.Option(None, "--folder", help="Only images under this folder.")
TAKEN_AFTER_OPT = typer.Option(None, "--taken-after", help="EXIF date taken on/after YYYY[-MM[-DD[THH:MM]]].")
TAKEN_BEFORE_OPT = typer.Option(None, "--taken-before", help="EXIF date taken on/before (whole period included).")
MOD_AFTER_OPT = typer.Option(None, "--modified-after", help="File modified on/after this date.")
MOD_BEFORE_OPT = typer.Option(None, "--modified-before", help="File modified on/before this date.")
MIN_W_OPT = typer.Option(None, "--min-width", min=1, help="At least this many pixels wide.")
MIN_H_OPT = typer.Option(None, "--min-height", min=1, help="At least this many pixels high.")
RAY_ADDRESS = re.compile(r"^(auto|local|ray://\S+|[\w.\-]+:\d+)$")
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
    store: str | None = STORE_OPT,
    ray: str | None = typer.Option(
        None,
        "--ray",
        help="Decode and embed on Ray: --ray alone starts a local Ray; --ray ADDRESS (host:port, ray://…, auto) "
        "joins a cluster.",
    ),
    runtime: str | None = RUNTIME_OPT,
    precision: str | None = PRECISION_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Embed new and changed images under PATHS into the index; drop removed ones."""
    from clipaware.progress import progress_bar
    from clipaware.tasks.indexing import index_paths

    with _engine(runtime, precision), progress_bar(not as_json, "indexing") as progress:
        report = index_paths(paths, db=store or db, model=model, batch_size=batch_size, progress=progress, ray=ray)
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
    store: str | None = STORE_OPT,
    model: str | None = MODEL_OPT,
    routed: bool = typer.Option(
        False, "--routed", help="Check CLIP's candidates through the routes the query needs (count, relate, …)."
    ),
    candidates: int = typer.Option(50, "--candidates", min=1, help="With --routed: how many CLIP hits to check."),
    detector: str = DETECTOR_OPT,
    exact: bool = EXACT_OPT,
    glob: str | None = GLOB_OPT,
    folder: Path | None = FOLDER_OPT,
    taken_after: str | None = TAKEN_AFTER_OPT,
    taken_before: str | None = TAKEN_BEFORE_OPT,
    modified_after: str | None = MOD_AFTER_OPT,
    modified_before: str | None = MOD_BEFORE_OPT,
    min_width: int | None = MIN_W_OPT,
    min_height: int | None = MIN_H_OPT,
    runtime: str | None = RUNTIME_OPT,
    precision: str | None = PRECISION_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Rank indexed images by similarity to TEXT (or to --image), optionally filtered; --routed checks each hit."""
    from clipaware.index.filters import Filters
    from clipaware.index.store import open_store
    from clipaware.tasks.search import search

    filters = Filters.build(
        path_glob=glob,
        folder=folder,
        taken_after=taken_after,
        taken_before=taken_before,
        modified_after=modified_after,
        modified_before=modified_before,
        min_width=min_width,
        min_height=min_height,
    )
    with _engine(runtime, precision), open_store(store or db) as index:
        if routed:
            from clipaware.tasks.ask import Toolkit
            from clipaware.tasks.routed import routed_search
            from clipaware.tasks.search import model_for

            if text is None:
                raise UsageError("--routed needs a text query")
            kit = Toolkit(clip=model_for(index, model), detector=detector)
            result = routed_search(
                index, text, k=k, candidates=candidates, kit=kit, model=model, filters=filters, exact=exact or None
            )
            if as_json:
                emit_json(result.to_dict())
                return
            out.print(f"[bold]{text!r}[/] routes: {', '.join(result.routes)}; {result.examined} candidates checked")
            for rank, hit in enumerate(result.hits, 1):
                out.print(f"{rank:>3}  {hit.score:6.3f}  {hit.path}  answer={hit.answer}", markup=False)
            if not result.hits:
                out.print("no candidate passed the routed check")
            for item in result.skipped:
                err.print(f"skipped {item.path}: {item.reason}")
            return
        hits = search(index, text=text, image=image, k=k, model=model, filters=filters, exact=exact or None)
    _print_hits(hits, as_json, f"{text!r}" if text is not None else f"like {image}")


@app.command("similar")
def similar_cmd(
    image: Path = typer.Argument(..., help="The image to find look-alikes of."),
    k: int = K_OPT,
    db: Path | None = DB_OPT,
    store: str | None = STORE_OPT,
    exact: bool = EXACT_OPT,
    glob: str | None = GLOB_OPT,
    folder: Path | None = FOLDER_OPT,
    runtime: str | None = RUNTIME_OPT,
    precision: str | None = PRECISION_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Indexed images most similar to IMAGE (IMAGE itself left out)."""
    from clipaware.index.filters import Filters
    from clipaware.index.store import open_store
    from clipaware.tasks.search import similar

    with _engine(runtime, precision), open_store(store or db) as index:
        filters = Filters.build(path_glob=glob, folder=folder)
        hits = similar(index, image, k=k, filters=filters, exact=exact or None)
    _print_hits(hits, as_json, f"similar to {image}")


@app.command("duplicates")
def duplicates_cmd(
    db: Path | None = DB_OPT,
    store: str | None = STORE_OPT,
    threshold: float = typer.Option(
        0.95, "--threshold", help="Cosine similarity at or above which two images count as near-duplicates."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Groups of near-duplicate images in the index (re-encodes, resizes, light crops)."""
    from clipaware.index.store import open_store
    from clipaware.tasks.duplicates import find_duplicates

    with open_store(store or db) as index:
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
    as_json: bool = JSON_OPT,
) -> None:
    """Answer QUERY about IMAGE through the route it needs (count, relate, bind, negate, identify, CLIP)."""
    from clipaware.tasks.ask import Toolkit, ask

    kit = Toolkit(clip=model, detector=detector, gallery=gallery, feature_model=feature_model)
    result = ask(image, query, kit=kit)
    if as_json:
        emit_json(result.to_dict())
        return
    out.print(f"[bold]{result.query}[/] → [bold cyan]{_say(result.answer)}[/]")
    for step in result.steps:
        reason = step.evidence.get("reason", "")
        models = f" [dim]({', '.join(step.models)})[/]" if step.models else ""
        out.print(f"  {step.route}: {step.text!r} → {_say(step.answer)}{models}" + (f" — {reason}" if reason else ""))
    for note in result.notes:
        out.print(f"  [yellow]note[/]: {note}")


@app.command("diagnose")
def diagnose_cmd(
    image: Path = typer.Option(..., "--image", help="The image CLIP got wrong."),
    query: str = typer.Option(..., "--query", help="The query it got wrong."),
    out_path: Path | None = typer.Option(None, "--out", help="Write a picture: boxes beside a heat-map (PNG)."),
    detector: str = DETECTOR_OPT,
    model: str | None = MODEL_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Explain an unexpected CLIP result: score vs null, contrastive probes, analyzer verdict, routed answer."""
    from rich.markup import escape

    from clipaware.tasks.ask import Toolkit
    from clipaware.tasks.diagnose import describe_score, diagnose

    result = diagnose(image, query, kit=Toolkit(clip=model, detector=detector), out=out_path)
    if as_json:
        emit_json(result.to_dict())
        return
    c = result.clip
    out.print(f"[bold]{result.query}[/] on {result.image}")
    out.print(f"  CLIP {describe_score(c)}", markup=False)
    for probe in result.probes:
        flag = f"[red]{probe.verdict}[/]" if probe.preferred or probe.indistinct else probe.verdict
        text = escape(repr(probe.text))
        out.print(f"  probe {probe.kind}: {text} {probe.similarity:.3f} (Δ {probe.delta:+.3f}) {flag}")
    kinds = ", ".join(f"{lim.kind.value} ({', '.join(lim.evidence)})" for lim in result.analysis.limitations)
    out.print(f"  analyzer: {kinds or 'CLIP is appropriate'}")
    out.print(f"  routed answer: {_say(result.routed.answer)} via {', '.join(s.route for s in result.routed.steps)}")
    out.print(f"  {result.explanation}", markup=False)
    if result.picture:
        out.print(f"  picture: {result.picture}")


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


# --- check (query analyzer) ---
@app.command("check")
def check(
    query: str | None = typer.Argument(None, help="The text query to check, in quotes."),
    as_json: bool = typer.Option(
        False, "--json", help='Print {"query", "clip_ok", "limitations", "parse"} (or the scores) as JSON.'
    ),
    check_all: bool = typer.Option(False, "--check-all", help="List every check with pass/fail."),
    file: str | None = typer.Option(
        None,
        "--file",
        help='Check every query in a file (one per line, or JSONL with "query"); JSON lines out.',
    ),
    evaluate_path: str | None = typer.Option(
        None, "--evaluate", help="Score the analyzer on labelled JSONL (query + limitations) and list misses."
    ),
) -> None:
    """Say whether CLIP suits a query; if not, show the words that show why and what to use instead."""
    from pathlib import Path  # imports stay inside: this block is self-contained and `--help` stays fast

    from clipaware.errors import UsageError
    from clipaware.query import analyze
    from clipaware.query.evaluate import evaluate_file
    from clipaware.query.report import analyze_file, render_text

    if sum(x is not None for x in (query, file, evaluate_path)) != 1:
        raise UsageError('give exactly one of: a QUERY, --file F, or --evaluate F.jsonl (e.g. check "a red car")')
    if file is not None:
        for result in analyze_file(Path(file)):
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return
    if evaluate_path is not None:
        report = evaluate_file(Path(evaluate_path))
        if as_json:
            emit_json(report.to_dict())
        else:
            out.print(report.render(), markup=False)
        return
    analysis = analyze(query or "")
    if as_json:
        emit_json(analysis.to_dict())
    else:
        out.print(render_text(analysis, check_all=check_all))


# --- end check ---


def _ray_flag(argv: list[str]) -> list[str]:
    """``--ray`` may stand alone (start a local Ray): give it the value ``local`` unless an address follows.

    Click options take a value or none, not "maybe one"; an address is recognised by its shape
    (``host:port``, ``ray://…``, ``auto``, ``local``) so ``--ray photos/`` still indexes ``photos/`` locally.
    """
    out_args: list[str] = []
    for i, arg in enumerate(argv):
        out_args.append(arg)
        if arg == "--ray" and (i + 1 >= len(argv) or not RAY_ADDRESS.match(argv[i + 1])):
            out_args.append("local")
    return out_args


# --- eval (shapes world and benchmarks) ---
eval_app = typer.Typer(
    help="Measure CLIP alone against clipaware's routes: the shapes world and real benchmarks.",
    no_args_is_help=True,
)
app.add_typer(eval_app, name="eval")


def _print_eval(report: Any, as_json: bool) -> None:
    from clipaware.world.evaluate import format_accuracy

    if as_json:
        emit_json(report.to_dict())
        return
    table = Table(title=f"{report.benchmark} · model {report.model}", show_edge=False)
    for column in ("task", "n", "chance", "CLIP-only [95% CI]", "routed [95% CI]"):
        table.add_column(column, justify="left" if column == "task" else "right")
    for row in report.tasks:
        table.add_row(
            row.task, str(row.n), f"{row.chance:.2f}", format_accuracy(row.clip_only), format_accuracy(row.routed)
        )
    out.print(table)
    for row in report.tasks:
        if row.routed is None and row.routed_note:
            out.print(f"[dim]{row.task}: routed not available ({row.routed_note})[/]")
        if row.skipped:
            err.print(f"{row.task}: skipped {row.skipped} items (image missing or entry unusable)")


@eval_app.command("shapes")
def eval_shapes_cmd(
    n: int = typer.Option(200, "--n", min=1, help="Probes per task."),
    seed: int = typer.Option(0, "--seed", help="Seed of the probe scenes (same seed, same numbers)."),
    model: str | None = typer.Option(None, "--model", "-m", help="CLIP to test (default: the shapes CLIP)."),
    via: str = typer.Option(
        "tasks", "--via", help="Routed column: 'tasks' (route functions on the probe's objects) or 'ask' (its words)."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Accuracy per task (count, relations, binding, negation): chance, CLIP-only and routed."""
    from clipaware.models.clip import ClipModel
    from clipaware.world import SHAPES_CLIP_PATH
    from clipaware.world.evaluate import evaluate_shapes

    name = model or str(SHAPES_CLIP_PATH)
    if via not in ("tasks", "ask"):
        raise UsageError("--via takes 'tasks' or 'ask'")
    report = evaluate_shapes(ClipModel.load(name), n=n, seed=seed, model_name=model or "shapes-clip", via=via)
    _print_eval(report, as_json)


def _benchmark_command(benchmark: str, title: str) -> None:
    def command(
        data: Path = typer.Option(..., "--data", help=f"Folder holding the downloaded {title} files."),
        model: str | None = MODEL_OPT,
        images: Path | None = typer.Option(
            None, "--images", help="Image folder when not inside --data (SugarCrepe: COCO val2017)."
        ),
        limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many items per subset."),
        as_json: bool = JSON_OPT,
    ) -> None:
        from clipaware.models.clip import ClipModel
        from clipaware.world.evaluate import evaluate_benchmark

        clip = ClipModel.load(model)
        report = evaluate_benchmark(benchmark, data, clip, images=images, limit=limit, model_name=clip.name)
        _print_eval(report, as_json)

    command.__doc__ = f"{title}: chance, CLIP-only and routed accuracy per subset, from files you downloaded."
    eval_app.command(benchmark)(command)


_benchmark_command("whatsup", "What'sUp")
_benchmark_command("sugarcrepe", "SugarCrepe")
_benchmark_command("countbench", "CountBench")
# --- end eval ---


def main() -> None:
    """Console-script entry point: run the app, turning our errors into one line and an exit code."""
    try:
        app(args=_ray_flag(sys.argv[1:]))  # standalone: typer/click handle --help, usage errors and their exit codes
    except ClipawareError as exc:
        err.print(f"[bold red]error:[/] {exc}", markup=True)
        sys.exit(exc.exit_code)
    except (OSError, sqlite3.Error) as exc:  # the environment, not a bug: read-only folder, disk full, locked db
        err.print(f"[bold red]error:[/] {exc}", markup=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
