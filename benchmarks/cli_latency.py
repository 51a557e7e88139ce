"""How long a `clipaware` command takes from process start to exit: the latency an agent calling it feels.

Agents run clipaware as a subprocess, once per question, so start-up (imports, model load) is most of what
they wait for. This script builds a library the way a user would — a ViT-B/32-sized random twin
(``fixtures.random_twin``: the real architecture and preprocessing, random weights), ``clipaware index``
over N synthetic photos (which also exports and caches the ONNX engine) — then times fresh processes:

* ``--help`` and ``check "…"`` (no model at all);
* ``search "…"`` (text), ``search --image``, ``classify IMAGE --labels …``: each on the CPU's default
  runtime with the engine cached, and beside it the same command with ``--runtime torch`` (the PyTorch fp32
  reference, which imports torch and transformers and loads the safetensors), alternated in one run so
  that both see the same machine load.

Per command: the median wall time and median CPU time (user + sys, from ``wait4``) of ``--repeats`` cold
processes after one unrecorded warm-up (the page cache is warm, the interpreter is not), and the peak RSS.
CPU time is the steadier figure on a shared machine; the load average is printed before and after.

    python benchmarks/cli_latency.py --json               # 1,000 images, 5 runs per command
    python benchmarks/cli_latency.py --images 200 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

TWIN = "openai/clip-vit-base-patch32"
# the console script's own two lines, so that the interpreter and the source tree are this script's
CLI = [sys.executable, "-c", "import sys; from clipaware.cli import main; sys.argv[0] = 'clipaware'; main()"]
BARS = {"search_text_wall_s": 1.0, "search_text_speedup": 8.0, "search_text_rss_mb": 400, "check_s": 0.3, "help_s": 0.3}


def load_average() -> float:
    try:
        return float(os.getloadavg()[0])
    except OSError:
        return float("nan")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def timed(args: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run one command in a fresh process: wall seconds, CPU seconds (user + sys) and peak RSS (MB)."""
    start = time.perf_counter()
    process = subprocess.Popen([*CLI, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    error = process.stderr.read().decode(errors="replace") if process.stderr else ""
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"clipaware {' '.join(args)} exited {process.returncode}: {error.strip()[-400:]}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024}


def synthetic_photos(folder: Path, count: int, side: int = 256) -> Path:
    """Smooth random colour fields with grain, as JPEGs (photo-like to the decoder, quick to make)."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(count + side)
    for i in range(count):
        coarse = rng.integers(0, 256, (4 + i % 5, 5 + i % 7, 3), dtype=np.uint8)
        smooth = np.asarray(Image.fromarray(coarse).resize((side, side * 3 // 4), Image.Resampling.BICUBIC))
        grain = rng.integers(-10, 11, smooth.shape)
        picture = Image.fromarray(np.clip(smooth.astype(np.int16) + grain, 0, 255).astype(np.uint8))
        picture.save(folder / f"photo-{i:05d}.jpg", quality=85)
    return folder


def summarise(runs: list[dict[str, float]]) -> dict[str, Any]:
    return {
        "wall_s": round(statistics.median(r["wall_s"] for r in runs), 3),
        "cpu_s": round(statistics.median(r["cpu_s"] for r in runs), 3),
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
        "runs_wall_s": [round(r["wall_s"], 3) for r in runs],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1000, help="photos in the library (default 1000)")
    parser.add_argument("--repeats", type=int, default=5, help="cold processes per command (default 5)")
    parser.add_argument("--workdir", type=Path, help="keep the twin, photos and index here (reused if present)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    opts = parser.parse_args()

    from clipaware.models.runtime import cpu_features, default_choice  # light: no numpy, no torch

    work = opts.workdir or Path(tempfile.mkdtemp(prefix="clipaware-cli-latency-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "CLIPAWARE_ONNX_CACHE": str(work / "onnx"),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    }
    for name in ("CLIPAWARE_RUNTIME", "CLIPAWARE_PRECISION", "CLIPAWARE_MODEL", "CLIPAWARE_DB"):
        env.pop(name, None)  # the CPU's default engine, the library's own model
    load_before = load_average()
    setup: dict[str, float] = {}
    started = time.perf_counter()
    model, photos, outside = work / "b32-twin", work / "photos", work / "query.jpg"
    # built in a child process: Linux carries a process's peak RSS across fork and exec, so this process must
    # stay small for the commands' own peaks to be measured
    build = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); import cli_latency as b\n"
        "from clipaware.testing import random_twin\n"
        "model, photos, count = Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])\n"
        "if not (model / 'config.json').is_file(): random_twin(b.TWIN, model)\n"
        "if len(list(photos.glob('*.jpg'))) != count: b.synthetic_photos(photos, count)\n"
        "b.synthetic_photos(photos.parent / 'query', 1, side=300)\n"
    )
    subprocess.run(
        [sys.executable, "-c", build, str(Path(__file__).parent), str(model), str(photos), str(opts.images)],
        env=env,
        check=True,
    )
    (work / "query" / "photo-00000.jpg").replace(outside)
    setup["twin_and_photos_s"] = round(time.perf_counter() - started, 1)
    db = work / "library.db"
    started = time.perf_counter()
    timed(["index", str(photos), "--model", str(model), "--db", str(db)], env)  # exports the engine on first use
    setup["index_s"] = round(time.perf_counter() - started, 1)
    query_image = str(outside)  # not in the index: the command must embed it

    commands: dict[str, list[str]] = {
        "help": ["--help"],
        "check": ["check", "two dogs left of a red car"],
        "search_text": ["search", "a photo of a cat", "--db", str(db)],
        "search_image": ["search", "--image", query_image, "--db", str(db)],
        "classify": ["classify", query_image, "--labels", "cat,dog,car", "--model", str(model)],
    }
    with_torch = ("search_text", "search_image", "classify")
    plan = [(key, args) for key, args in commands.items()]
    plan += [(f"{key}_torch", [*commands[key], "--runtime", "torch"]) for key in with_torch]
    for _, args in plan:  # warm-up: the page cache, not the interpreter
        timed(args, env)
    runs: dict[str, list[dict[str, float]]] = {key: [] for key, _ in plan}
    for _ in range(opts.repeats):  # alternated, so ours and the reference share the machine's mood
        for key, args in plan:
            runs[key].append(timed(args, env))
    load_after = load_average()

    results = {key: summarise(value) for key, value in runs.items()}
    ratios = {
        key: {
            "wall": round(results[f"{key}_torch"]["wall_s"] / results[key]["wall_s"], 2),
            "cpu": round(results[f"{key}_torch"]["cpu_s"] / results[key]["cpu_s"], 2),
        }
        for key in with_torch
    }
    search = results["search_text"]
    verdicts = {
        "search_text_wall_s": search["wall_s"] <= BARS["search_text_wall_s"],
        "search_text_speedup": ratios["search_text"]["wall"] >= BARS["search_text_speedup"],
        "search_text_rss_mb": search["peak_rss_mb"] <= BARS["search_text_rss_mb"],
        "check_s": results["check"]["wall_s"] <= BARS["check_s"],
        "help_s": results["help"]["wall_s"] <= BARS["help_s"],
    }
    report = {
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "cpu_flags": {k: v for k, v in cpu_features().items() if v},
            "default_engine": default_choice().label,
            "load_before": load_before,
            "load_after": load_after,
        },
        "model": f"random twin of {TWIN}",
        "images": opts.images,
        "repeats": opts.repeats,
        "setup": setup,
        "commands": results,
        "torch_over_ours": ratios,
        "bars": BARS,
        "meets": verdicts,
    }
    if opts.json:
        print(json.dumps(report, indent=1))
        return
    print(f"load {load_before:.1f} → {load_after:.1f}; {opts.images} images; engine {default_choice().label}")
    print(f"{'command':<22}{'wall s':>9}{'cpu s':>9}{'RSS MB':>9}")
    for key, row in results.items():
        print(f"{key:<22}{row['wall_s']:>9.3f}{row['cpu_s']:>9.3f}{row['peak_rss_mb']:>9.0f}")
    for key, ratio in ratios.items():
        print(f"{key}: --runtime torch / ours = {ratio['wall']}x wall, {ratio['cpu']}x CPU")


if __name__ == "__main__":
    main()
