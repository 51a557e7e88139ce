"""The main job: ``index`` a folder, then ``search`` / ``similar`` / ``duplicates`` in it.

Each command opens the library once (store + lazily loaded model), calls one task and prints its result.
"""

from __future__ import annotations

from pathlib import Path

import typer

from clipaware.cli import output
from clipaware.cli.app import app
from clipaware.cli.options import (
    ANN_THRESHOLD_OPT,
    DB_OPT,
    DETECTOR_OPT,
    DEVICE_OPT,
    EXACT_OPT,
    FOLDER_OPT,
    GLOB_OPT,
    JSON_OPT,
    K_OPT,
    MIN_H_OPT,
    MIN_W_OPT,
    MOD_AFTER_OPT,
    MOD_BEFORE_OPT,
    MODEL_OPT,
    ONNX_CACHE_OPT,
    PATHS_OPT,
    PRECISION_OPT,
    RUNTIME_OPT,
    STORE_OPT,
    TAKEN_AFTER_OPT,
    TAKEN_BEFORE_OPT,
)
from clipaware.errors import UsageError


@app.command("index")
def index_cmd(
    paths: list[Path] = typer.Argument(..., help="Folders (walked recursively) or image files."),
    db: Path | None = typer.Option(
        None,
        "--db",
        envvar="CLIPAWARE_DB",
        help="Index file (default: the nearest .clipaware.db in the first folder or above, else a new one there).",
    ),
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
    onnx_cache: Path | None = ONNX_CACHE_OPT,
    ann_threshold: int | None = ANN_THRESHOLD_OPT,
    device: str | None = DEVICE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Embed new and changed images under PATHS into the index; drop removed ones."""
    from clipaware.library import Library
    from clipaware.progress import progress_bar
    from clipaware.tasks.indexing import default_db_for, index_paths

    location = store or db or default_db_for(paths)
    opened = Library.open(
        location,
        model=model,
        runtime=runtime,
        precision=precision,
        device=device,
        onnx_cache=onnx_cache,
        ann_threshold=ann_threshold,
        create=True,
    )
    with opened as library, progress_bar(not as_json, "indexing") as progress:
        report = index_paths(library, paths, batch_size=batch_size, progress=progress, ray=ray)
    output.index_report(report, as_json)


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
    onnx_cache: Path | None = ONNX_CACHE_OPT,
    ann_threshold: int | None = ANN_THRESHOLD_OPT,
    device: str | None = DEVICE_OPT,
    paths_only: bool = PATHS_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Rank indexed images by similarity to TEXT (or to --image), optionally filtered; --routed checks each hit."""
    from clipaware.index.filters import Filters
    from clipaware.library import Library
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
    with Library.open(
        store or db,
        model=model,
        runtime=runtime,
        precision=precision,
        device=device,
        onnx_cache=onnx_cache,
        ann_threshold=ann_threshold,
    ) as library:
        if routed:
            from clipaware.tasks.routed import routed_search

            if text is None:
                raise UsageError("--routed needs a text query")
            kit = library.toolkit(detector)
            result = routed_search(
                library, text, k=k, candidates=candidates, kit=kit, filters=filters, exact=exact or None
            )
            if paths_only and not as_json:
                output.paths(result.hits)
            else:
                output.routed_hits(result, text, as_json)
            return
        hits = search(library, text=text, image=image, k=k, filters=filters, exact=exact or None)
    if paths_only and not as_json:
        output.paths(hits)
        return
    output.hits(hits, as_json, f"{text!r}" if text is not None else f"like {image}")


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
    onnx_cache: Path | None = ONNX_CACHE_OPT,
    ann_threshold: int | None = ANN_THRESHOLD_OPT,
    device: str | None = DEVICE_OPT,
    paths_only: bool = PATHS_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Indexed images most similar to IMAGE (IMAGE itself left out)."""
    from clipaware.index.filters import Filters
    from clipaware.library import Library
    from clipaware.tasks.search import similar

    with Library.open(
        store or db,
        runtime=runtime,
        precision=precision,
        device=device,
        onnx_cache=onnx_cache,
        ann_threshold=ann_threshold,
    ) as library:
        filters = Filters.build(path_glob=glob, folder=folder)
        hits = similar(library, image, k=k, filters=filters, exact=exact or None)
    if paths_only and not as_json:
        output.paths(hits)
        return
    output.hits(hits, as_json, f"similar to {image}")


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
    from clipaware.library import Library
    from clipaware.tasks.duplicates import find_duplicates

    with Library.open(store or db) as library:
        groups = find_duplicates(library, threshold)
    output.duplicate_groups(groups, threshold, as_json)
