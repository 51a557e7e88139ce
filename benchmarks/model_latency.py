"""Per-image CPU latency of each registry CLIP's random-initialised twin, per engine.

The seed guide quotes CPU latencies per image (B/32 ~100 ms, L/14 ~300 ms, g-14 ~1000 ms); this measures
them here for the twins (same architecture and FLOPs as the trained models) on each engine, one image per
forward pass (what a single query image costs), median over a few images after a warm-up, plus the cosine
of each engine's vectors to PyTorch fp32. Big models (g-14: ~1.4 B parameters, 5.5 GB in fp32) can be
measured on the image tower alone with ``--vision-only`` (no text tower built, no ONNX export).

    python benchmarks/model_latency.py --models b32 l14 --engines torch:fp32 torch:bf16 onnx:int8 --json
    python benchmarks/model_latency.py --models g14 --vision-only --engines torch:fp32 torch:bf16
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SHORT = {
    "b32": "openai/clip-vit-base-patch32",
    "l14": "openai/clip-vit-large-patch14",
    "g14": "laion/CLIP-ViT-g-14-laion2B-s12B-b42K",
    "siglip2": "google/siglip2-base-patch16-224",
}


def pixels_for(count: int, side: int = 224) -> np.ndarray:
    from transformers import CLIPImageProcessor

    from clipaware.models.engines import probe_images
    from clipaware.models.preprocess import FastPreprocessor
    from clipaware.testing import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD

    processor = CLIPImageProcessor(
        size={"shortest_edge": side},
        crop_size={"height": side, "width": side},
        image_mean=list(OPENAI_CLIP_MEAN),
        image_std=list(OPENAI_CLIP_STD),
    )
    fast = FastPreprocessor.from_processor(processor)
    assert fast is not None
    return fast.batch(probe_images(count))


def latency_ms(run: Any, pixels: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(median ms for one image alone, ms per image within one batch of all of them, the vectors).

    Both are given because they answer different questions: a single query image pays the first;
    indexing a library pays the second. On a loaded machine the first suffers most, since a batch of one
    has too little work per parallel region to hide threads waiting for a core.
    """
    run(pixels[:1])  # warm-up: first calls allocate and pick kernels
    times = []
    for i in range(len(pixels)):
        start = time.perf_counter()
        run(pixels[i : i + 1])
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    out = run(pixels)
    batched = (time.perf_counter() - start) / len(pixels)
    return 1000 * statistics.median(times), 1000 * batched, out


def cosine_min(a: np.ndarray, b: np.ndarray) -> float:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float((a * b).sum(axis=1).min())


def measure_full(name: str, engines: list[str], pixels: np.ndarray, workdir: Path) -> list[dict[str, Any]]:
    """Through ClipModel.load: the real engines, export and check included."""
    from clipaware import ClipModel
    from clipaware.testing import random_twin

    folder = workdir / ("model-" + name.replace("/", "--"))
    if not (folder / "config.json").is_file():
        random_twin(name, folder)
    rows, reference = [], None
    for spec in engines:
        runtime, precision = spec.split(":")
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = ClipModel.load(folder, runtime=runtime, precision=precision)
        load_s = time.perf_counter() - start
        ms, ms_batched, vectors = latency_ms(model.embed_pixels, pixels)
        reference = vectors if spec == "torch:fp32" else reference
        rows.append(
            {
                "model": name,
                "engine": model.engine.label,
                "asked": spec,
                "ms_per_image": round(ms, 1),
                "ms_per_image_batched": round(ms_batched, 1),
                "load_s": round(load_s, 1),
                "cosine_to_fp32": None if reference is None else round(cosine_min(vectors, reference), 5),
                "check": None if model.check is None else model.check.to_dict(),
                "warnings": [str(w.message) for w in caught if "refused" in str(w.message)],
            }
        )
        del model
        gc.collect()
    return rows


def measure_vision_only(name: str, engines: list[str], pixels: np.ndarray) -> list[dict[str, Any]]:
    """The image tower alone, built in memory (for models too big to save, export and check here)."""
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    from clipaware.testing import TWINS

    arch = TWINS[name]
    torch.manual_seed(0)
    start = time.perf_counter()
    config = CLIPVisionConfig(image_size=arch.image_size, **arch.vision, projection_dim=arch.top["projection_dim"])
    model = CLIPVisionModelWithProjection(config).eval()
    build_s = time.perf_counter() - start
    rows, reference = [], None
    for engine in engines:
        runtime, precision = engine.split(":")
        if runtime != "torch":
            rows.append({"model": name, "engine": engine, "skipped": "vision-only measures PyTorch engines"})
            continue
        dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        tower = model.to(dtype)

        def run(px: np.ndarray, tower: Any = tower, dtype: Any = dtype) -> np.ndarray:
            with torch.inference_mode():
                return tower(pixel_values=torch.from_numpy(px).to(dtype)).image_embeds.float().numpy()

        ms, ms_batched, vectors = latency_ms(run, pixels)
        reference = vectors if engine == "torch:fp32" else reference
        rows.append(
            {
                "model": name,
                "engine": f"{engine.replace(':', ' ')} (image tower only)",
                "ms_per_image": round(ms, 1),
                "ms_per_image_batched": round(ms_batched, 1),
                "build_s": round(build_s, 1),
                "cosine_to_fp32": None if reference is None else round(cosine_min(vectors, reference), 5),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["b32", "l14"], help=f"from {', '.join(SHORT)}")
    parser.add_argument("--engines", nargs="+", default=["torch:fp32", "torch:bf16", "onnx:int8"])
    parser.add_argument("--images", type=int, default=4, help="images timed one at a time (median)")
    parser.add_argument("--vision-only", action="store_true", help="image tower in memory, PyTorch engines only")
    parser.add_argument("--workdir", default=str(Path.home() / ".cache" / "clipaware-bench"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from clipaware.models.clip import quiet_transformers

    quiet_transformers()
    workdir = Path(args.workdir).expanduser()
    pixels = pixels_for(args.images)
    rows: list[dict[str, Any]] = []
    for short in args.models:
        name = SHORT.get(short, short)
        if args.vision_only:
            rows += measure_vision_only(name, args.engines, pixels)
        else:
            rows += measure_full(name, args.engines, pixels, workdir)
        gc.collect()
    result = {"rows": rows, "load_average": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count()}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for row in rows:
            if "skipped" in row:
                continue
            print(
                f"{row['model']:42s} {row['engine']:36s} {row['ms_per_image']:8.1f} ms/img  cos {row['cosine_to_fp32']}"
            )
        print(f"load average {result['load_average']} on {result['cpus']} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
