"""Per-image CPU latency of the registry's models, measured on random-initialised twins (plain PyTorch fp32).

docs/models.md quotes these numbers. Trained weights cannot be fetched on the machines this project is built
on, but latency depends only on the architecture and the input size, not on the weight values, so each model
is rebuilt here from its published configuration (same layers, widths, patch size and input resolution) with
random weights and timed through clipaware's own code path: ``ClipModel.encode_images`` for CLIP (decode +
preprocess + image tower + projection), ``FeatureModel.encode_images`` for DINOv2, and the detectors'
``detect`` (preprocess + forward + post-processing + NMS). One image per call, as a single query image costs;
the median over the calls after one warm-up call.

It prints the machine (CPU model, cores, torch threads), the 1-minute load average before and after, and one
markdown row per model; ``--json`` prints the same as JSON.

    python benchmarks/cpu_latency.py                       # b32 l14 dinov2-small dinov2-base detr
    python benchmarks/cpu_latency.py --models b32 siglip2 owlv2 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

NAMES = {
    "b32": "openai/clip-vit-base-patch32",
    "l14": "openai/clip-vit-large-patch14",
    "siglip2": "google/siglip2-base-patch16-224",
    "dinov2-small": "facebook/dinov2-small",
    "dinov2-base": "facebook/dinov2-base",
    "detr": "facebook/detr-resnet-50",
    "owlv2": "google/owlv2-base-patch16-ensemble",
}
DEFAULT_MODELS = ["b32", "l14", "dinov2-small", "dinov2-base", "detr"]

DINO_SIZES = {"dinov2-small": (384, 6), "dinov2-base": (768, 12)}  # hidden, heads; 12 layers, patch 14


def clip_twin(key: str, folder: Path) -> Any:
    """A CLIP or SigLIP with the real architecture (``testing.random_twin``), loaded by clipaware's loader on
    the plain PyTorch fp32 path (the engines of docs/performance.md are measured by model_latency.py)."""
    from clipaware.models.clip import ClipModel
    from clipaware.testing import random_twin

    clip = ClipModel.load(random_twin(NAMES[key], folder), runtime="torch", precision="fp32")
    return lambda path: clip.encode_images([path])


def dino_twin(key: str) -> Any:
    """DINOv2 at the published width (12 layers, patch 14) with its 256-resize / 224-crop processor."""
    from transformers import BitImageProcessor, Dinov2Config, Dinov2Model

    from clipaware.models.features import FeatureModel

    hidden, heads = DINO_SIZES[key]
    model = Dinov2Model(
        Dinov2Config(hidden_size=hidden, num_attention_heads=heads, num_hidden_layers=12, patch_size=14, image_size=518)
    ).eval()
    processor = BitImageProcessor(
        size={"shortest_edge": 256}, crop_size={"height": 224, "width": 224}, do_center_crop=True
    )
    features = FeatureModel(NAMES[key], model, processor, "cpu")
    return lambda path: features.encode_images([path])


def detector_twin(key: str, folder: Path) -> Any:
    """DETR-ResNet-50 (800-px shortest side) or OWLv2 base/16 (960 px) at their published sizes
    (``testing.random_twin``), loaded by clipaware's own detector classes."""
    from clipaware.models.detect import DetrDetector, Owlv2Detector
    from clipaware.testing import random_twin

    random_twin(NAMES[key], folder)
    detector = DetrDetector(str(folder)) if key == "detr" else Owlv2Detector(str(folder))
    return lambda path: detector.detect(path, ["cup"])


def photos(folder: Path) -> list[Path]:
    """Three real photos (scikit-image's astronaut 512², coffee 400x600, chelsea 300x451) as JPEG files."""
    from PIL import Image
    from skimage import data

    paths = []
    for name in ("astronaut", "coffee", "chelsea"):
        path = folder / f"{name}.jpg"
        Image.fromarray(getattr(data, name)()).save(path, quality=90)
        paths.append(path)
    return paths


def median_ms(run: Callable[[Path], Any], images: list[Path], repeats: int) -> tuple[float, float, float]:
    """Median, min and max milliseconds of one-image calls (after one warm-up call)."""
    run(images[0])
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        run(images[i % len(images)])
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times), min(times), max(times)


def machine() -> dict[str, Any]:
    import torch

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS, choices=sorted(NAMES))
    parser.add_argument("--repeats", type=int, default=5, help="timed one-image calls per model (after a warm-up)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    args = parser.parse_args()

    import torch

    from clipaware.models.clip import quiet_transformers

    quiet_transformers()
    torch.manual_seed(0)
    info = machine() | {"load_before": os.getloadavg()[0]}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        images = photos(Path(tmp))
        for key in args.models:
            if key in ("b32", "l14", "siglip2"):
                run = clip_twin(key, Path(tmp) / key)
            elif key in DINO_SIZES:
                run = dino_twin(key)
            else:
                run = detector_twin(key, Path(tmp) / key)
            load = os.getloadavg()[0]
            med, low, high = median_ms(run, images, args.repeats)
            rows.append({"model": NAMES[key], "median_ms": round(med), "min_ms": round(low), "max_ms": round(high),
                         "repeats": args.repeats, "load_1min": round(load, 2)})  # fmt: skip
            del run
            if not args.json:
                print(f"| `{NAMES[key]}` | {med:.0f} | {low:.0f}–{high:.0f} | {load:.1f} |", flush=True)
    info["load_after"] = os.getloadavg()[0]
    if args.json:
        print(json.dumps({"machine": info, "rows": rows}, indent=2))
    else:
        print(f"\n{info}")


if __name__ == "__main__":
    main()
