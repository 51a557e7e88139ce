"""Options several commands share, and where the environment is read: typer's ``envvar=`` on the option.

Every ``CLIPAWARE_*`` variable the product honours is read here (shown in each command's ``--help``)
and nowhere deeper: the values travel down as arguments, into :class:`clipaware.library.Library` and
:meth:`clipaware.models.clip.ClipModel.load`.
"""

from __future__ import annotations

import re

import typer

JSON_OPT = typer.Option(False, "--json", help="Print JSON for programs instead of text for people.")
DB_OPT = typer.Option(
    None,
    "--db",
    metavar="FILE",
    envvar="CLIPAWARE_DB",
    help="Index file (default: the nearest .clipaware.db here or above).",
)
MODEL_OPT = typer.Option(
    None,
    "--model",
    "-m",
    metavar="NAME",
    envvar="CLIPAWARE_MODEL",
    help="Hub name or local folder (default: openai/clip-vit-base-patch32).",
)
K_OPT = typer.Option(10, "-k", "--top-k", min=1, metavar="N", help="How many results.")
PATHS_OPT = typer.Option(
    False, "--paths", "-l", help="Print only the paths, one per line, best first (for pipes, like rg -l)."
)
DETECTOR_OPT = typer.Option(
    "auto",
    "--detector",
    metavar="NAME",
    help="auto (DETR for COCO nouns, else OWLv2), detr, owlv2, shapes, or a model folder.",
)
STORE_OPT = typer.Option(
    None,
    "--store",
    metavar="LOCATION",
    help="Where vectors live instead of --db: FILE (SQLite), milvus://HOST:PORT[/COLLECTION], milvus-lite:FILE.",
)
EXACT_OPT = typer.Option(False, "--exact", help="Scan every vector instead of the ANN index (slower, exact).")
GLOB_OPT = typer.Option(
    None, "--glob", metavar="PATTERN", help="Only paths matching this glob (* crosses folders), e.g. '*/2024/*'."
)
FOLDER_OPT = typer.Option(None, "--folder", metavar="FOLDER", help="Only images under this folder.")
TAKEN_AFTER_OPT = typer.Option(
    None, "--taken-after", metavar="DATE", help="EXIF date taken on/after YYYY[-MM[-DD[THH:MM]]]."
)
TAKEN_BEFORE_OPT = typer.Option(
    None, "--taken-before", metavar="DATE", help="EXIF date taken on/before (whole period included)."
)
MOD_AFTER_OPT = typer.Option(None, "--modified-after", metavar="DATE", help="File modified on/after this date.")
MOD_BEFORE_OPT = typer.Option(None, "--modified-before", metavar="DATE", help="File modified on/before this date.")
MIN_W_OPT = typer.Option(None, "--min-width", min=1, metavar="PIXELS", help="At least this many pixels wide.")
MIN_H_OPT = typer.Option(None, "--min-height", min=1, metavar="PIXELS", help="At least this many pixels high.")
RUNTIME_OPT = typer.Option(
    None,
    "--runtime",
    metavar="torch|onnx",
    envvar="CLIPAWARE_RUNTIME",
    help="torch or onnx (default: the best for this CPU; see doctor).",
)
PRECISION_OPT = typer.Option(
    None,
    "--precision",
    metavar="fp32|bf16|int8",
    envvar="CLIPAWARE_PRECISION",
    help="fp32, bf16 or int8 (default: the best for this CPU).",
)
DEVICE_OPT = typer.Option(
    None,
    "--device",
    metavar="DEVICE",
    envvar="CLIPAWARE_DEVICE",
    help="PyTorch device for the CLIP model, e.g. cpu or cuda:0 (default: CUDA when present, else CPU).",
)
ONNX_CACHE_OPT = typer.Option(
    None,
    "--onnx-cache",
    envvar="CLIPAWARE_ONNX_CACHE",
    help="Folder for ONNX exports of the models (default: clipaware-onnx in the Hugging Face cache).",
)
ANN_THRESHOLD_OPT = typer.Option(
    None,
    "--ann-threshold",
    min=1,
    envvar="CLIPAWARE_ANN_THRESHOLD",
    help="Rows from which an SQLite index searches through its ANN (default 50000; for tests and benchmarks).",
)

# ``--ray`` alone means "start a local Ray"; ``--ray ADDRESS`` joins a cluster. An address is told apart from
# a path to index by its shape.
RAY_ADDRESS = re.compile(r"^(auto|local|ray://\S+|[\w.\-]+:\d+)$")


def expand_ray_flag(argv: list[str]) -> list[str]:
    """``--ray`` may stand alone (start a local Ray): give it the value ``local`` unless an address follows.

    Kept as an argv rewrite on purpose: click options take a value or none, and click's optional-value
    options (``flag_value``) would swallow the next word, so ``index --ray photos/`` would try to join a
    cluster called ``photos/``. Here an address is recognised by its shape (``host:port``, ``ray://…``,
    ``auto``, ``local``), so ``--ray photos/`` still indexes ``photos/`` on a local Ray.
    """
    out_args: list[str] = []
    for i, arg in enumerate(argv):
        out_args.append(arg)
        if arg == "--ray" and (i + 1 >= len(argv) or not RAY_ADDRESS.match(argv[i + 1])):
            out_args.append("local")
    return out_args
