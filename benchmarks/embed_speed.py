"""Embedding speed: the naive PyTorch pipeline against clipaware's default fast path, in one run.

Builds a random-initialised twin of a registry model (same architecture, hence the same FLOPs as the
trained one; nothing is downloaded) and measures, alternating baseline and fast in each round so that
load on a shared machine hits both alike:

(a) model only: the same preprocessed 224×224 tensors through
    baseline  ``CLIPModel.get_image_features``, PyTorch fp32, batch 32
    fast      ``ClipModel.embed_pixels`` on the CPU's default engine (``clipaware doctor`` names it)
(b) end to end on generated 12-megapixel JPEGs:
    baseline  PIL full decode → the transformers image processor → the same fp32 forward, batch 32
    fast      ``ClipModel.encode_images(paths)``: draft-mode decode + fast preprocessing in worker
              threads, overlapped with the engine

It prints images/s for both, the ratios, end-to-end as a share of model-only, and the cosine between
the two paths' vectors; ``--json`` prints one JSON document instead.

It also times the fast path's decoding alone (the same worker pool, no model) and the CPU time per image
(all threads) of decoding and of the model. On a machine where both are CPU-bound, the cores can do no
better end to end than ``cores / (decode CPU + model CPU)`` per second, whatever the overlap: that ceiling
is printed beside the measured figure, because it says how far overlap alone can take end-to-end.

Shrink it for a smoke test with ``--model tiny --images 4 --megapixels 0.3 --repeats 1``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

BASELINE_BATCH = 32


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def build_model(name: str, workdir: Path) -> Path:
    """The twin's folder (built once per workdir)."""
    from clipaware.testing import random_twin, save_tiny_model

    folder = workdir / ("model-" + name.replace("/", "--"))
    if (folder / "config.json").is_file():
        return folder
    if name == "tiny":
        return save_tiny_model(folder, "clip", image_size=32)
    return random_twin(name, folder)


def photo_like(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A smooth random scene with edges and sensor-like grain, so JPEG sizes resemble camera photos."""
    from PIL import Image, ImageDraw

    coarse = rng.integers(0, 256, (int(rng.integers(4, 9)), int(rng.integers(5, 12)), 3), dtype=np.uint8)
    scene = Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(scene)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1, y1 = x0 + int(rng.integers(width // 20, width // 3)), y0 + int(rng.integers(height // 20, height // 3))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    pixels = np.asarray(scene, dtype=np.int16)
    grain = rng.normal(0.0, 6.0, (height, width, 1)).astype(np.int16)  # luminance grain, like a phone sensor
    return np.clip(pixels + grain, 0, 255).astype(np.uint8)


def make_jpegs(workdir: Path, count: int, megapixels: float) -> list[Path]:
    """``count`` distinct 4:3 JPEGs of ``megapixels`` each, quality 90 (made once per workdir)."""
    from PIL import Image

    width = round((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = round(width * 3 / 4)
    folder = workdir / f"jpegs-{width}x{height}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"photo-{i:04d}.jpg"
        if not path.is_file():
            rng = np.random.default_rng(i)
            tmp = path.with_suffix(".tmp")
            Image.fromarray(photo_like(rng, width, height)).save(tmp, "JPEG", quality=90)
            tmp.rename(path)
        paths.append(path)
    return paths


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


class Baseline:
    """The naive pipeline: transformers' own processor and CLIPModel, PyTorch fp32, batch 32."""

    def __init__(self, folder: Path) -> None:
        import torch
        from transformers import AutoImageProcessor, AutoModel

        self.torch = torch
        self.model = AutoModel.from_pretrained(folder, dtype=torch.float32).eval()
        self.processor = AutoImageProcessor.from_pretrained(folder)

    def forward(self, pixel_values: Any) -> np.ndarray:
        with self.torch.inference_mode():
            out = self.model.get_image_features(pixel_values=pixel_values)
        out = out if hasattr(out, "norm") else out.pooler_output
        return out.numpy()

    def model_only(self, pixels: np.ndarray) -> np.ndarray:
        tensor = self.torch.from_numpy(pixels)
        return np.concatenate(
            [self.forward(tensor[i : i + BASELINE_BATCH]) for i in range(0, len(tensor), BASELINE_BATCH)]
        )

    def end_to_end(self, paths: list[Path]) -> np.ndarray:
        from PIL import Image

        out = []
        for i in range(0, len(paths), BASELINE_BATCH):
            images = [Image.open(p).convert("RGB") for p in paths[i : i + BASELINE_BATCH]]
            inputs = self.processor(images=images, return_tensors="pt")
            out.append(self.forward(inputs["pixel_values"]))
        return np.concatenate(out)


def timed(fn: Any, *args: Any) -> tuple[float, float, Any]:
    """Wall seconds, process CPU seconds (every thread) and the result of ``fn(*args)``."""
    start, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    return time.perf_counter() - start, time.process_time() - cpu, result


def run(args: argparse.Namespace) -> dict[str, Any]:
    from PIL import Image

    from clipaware import ClipModel
    from clipaware.models.clip import quiet_transformers
    from clipaware.models.runtime import cpu_class
    from clipaware.pipeline import ordered_map

    quiet_transformers()
    workdir = Path(args.workdir).expanduser()
    workdir.mkdir(parents=True, exist_ok=True)
    load_before = load_average()
    folder = build_model(args.model, workdir)
    paths = make_jpegs(workdir, args.images, args.megapixels)
    jpeg_mb = statistics.mean(p.stat().st_size for p in paths) / 1e6

    fast = ClipModel.load(folder, runtime=args.runtime, precision=args.precision)  # exports on first use
    baseline = Baseline(folder)
    # The model-only input: real preprocessed photos (the processor's own output), tiled to the size wanted.
    sample = [Image.open(p).convert("RGB") for p in paths[: min(len(paths), 8)]]
    one = baseline.processor(images=sample, return_tensors="np")["pixel_values"].astype(np.float32)
    pixels = np.concatenate([one] * (-(-args.model_images // len(one))))[: args.model_images]

    fast_batch = args.batch_size or fast.batch_size

    def fast_model_only(px: np.ndarray) -> np.ndarray:
        return np.concatenate([fast.embed_pixels(px[i : i + fast_batch]) for i in range(0, len(px), fast_batch)])

    def fast_decode_only(items: list[Path]) -> list[np.ndarray]:
        return list(ordered_map(fast.prepare, items, ahead=2 * fast_batch))

    # warm-up: first calls allocate and pick kernels
    baseline.model_only(pixels[:BASELINE_BATCH])
    fast_model_only(pixels[:fast_batch])

    keys = ("base_model", "fast_model", "base_e2e", "fast_e2e", "fast_decode")
    times: dict[str, list[float]] = {k: [] for k in keys}
    cpu: dict[str, list[float]] = {k: [] for k in keys}
    vectors: dict[str, Any] = {}
    runs = [
        ("base_model", baseline.model_only, pixels),
        ("fast_model", fast_model_only, pixels),
        ("base_e2e", baseline.end_to_end, paths),
        ("fast_e2e", lambda items: fast.encode_images(items, fast_batch), paths),
        ("fast_decode", fast_decode_only, paths),
    ]
    for _ in range(args.repeats):  # alternate, so that load on a shared machine hits both alike
        for key, fn, data in runs:
            wall, cpu_s, vectors[key] = timed(fn, data)
            times[key].append(wall)
            cpu[key].append(cpu_s)

    def ips(key: str, n: int) -> float:
        return n / statistics.median(times[key])

    def cpu_ms(key: str, n: int) -> float:
        return 1000 * statistics.median(cpu[key]) / n

    model_only = {"baseline_ips": ips("base_model", len(pixels)), "fast_ips": ips("fast_model", len(pixels))}
    model_only["ratio"] = model_only["fast_ips"] / model_only["baseline_ips"]
    e2e = {"baseline_ips": ips("base_e2e", len(paths)), "fast_ips": ips("fast_e2e", len(paths))}
    e2e["ratio"] = e2e["fast_ips"] / e2e["baseline_ips"]
    cores = os.cpu_count() or 1
    decode_ms, model_ms = cpu_ms("fast_decode", len(paths)), cpu_ms("fast_model", len(pixels))
    ceiling = 1000 * cores / (decode_ms + model_ms)
    cos_model = cosines(vectors["base_model"], vectors["fast_model"])
    cos_e2e = cosines(vectors["base_e2e"], vectors["fast_e2e"])
    return {
        "cpu": cpu_class(),  # the CPU class these figures hold for (AVX2-only and VNNI machines differ)
        "model_only": {k: round(v, 3) for k, v in model_only.items()},
        "end_to_end": {k: round(v, 3) for k, v in e2e.items()},
        "e2e_share_of_model": round(e2e["fast_ips"] / model_only["fast_ips"], 4),
        "cosine_min": round(float(cos_model.min()), 6),
        "cosine_min_end_to_end": round(float(cos_e2e.min()), 6),
        "decode": {
            "decode_only_ips": round(ips("fast_decode", len(paths)), 3),
            "decode_cpu_ms_per_image": round(decode_ms, 2),
            "model_cpu_ms_per_image": round(model_ms, 2),
            "e2e_ceiling_ips": round(ceiling, 3),
            "e2e_share_ceiling": round(ceiling / model_only["fast_ips"], 4),
        },
        "setup": {
            "model": args.model,
            "fast_engine": fast.engine.label,
            "fast_batch": fast_batch,
            "baseline": f"transformers CLIPModel fp32, batch {BASELINE_BATCH}, PIL full decode + image processor",
            "model_only_images": len(pixels),
            "images": len(paths),
            "megapixels": args.megapixels,
            "jpeg_mb_mean": round(jpeg_mb, 2),
            "repeats": args.repeats,
            "cpus": cores,
            "load_average_before": load_before,
            "load_average_after": load_average(),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="openai/clip-vit-base-patch32", help="registry name to twin, or 'tiny'")
    parser.add_argument("--images", type=int, default=200, help="JPEGs for the end-to-end run")
    parser.add_argument("--megapixels", type=float, default=12.0, help="size of each generated JPEG")
    parser.add_argument("--model-images", type=int, default=128, help="tensors per model-only round")
    parser.add_argument("--repeats", type=int, default=2, help="alternating rounds (the median is reported)")
    parser.add_argument("--runtime", default=None, help="fast path runtime (default: this CPU's best)")
    parser.add_argument("--precision", default=None, help="fast path precision (default: this CPU's best)")
    parser.add_argument("--batch-size", type=int, default=None, help="fast path batch (default: the engine's)")
    parser.add_argument("--workdir", default=str(Path.home() / ".cache" / "clipaware-bench"))
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    s, m, e = result["setup"], result["model_only"], result["end_to_end"]
    print(f"{s['model']} twin; fast engine {s['fast_engine']} (batch {s['fast_batch']}); {s['cpus']} CPUs")
    print(f"load average before {s['load_average_before']} after {s['load_average_after']}")
    print(
        f"model only  ({s['model_only_images']} tensors):  baseline {m['baseline_ips']:7.1f} img/s   "
        f"fast {m['fast_ips']:7.1f} img/s   ratio {m['ratio']:.2f}x"
    )
    print(
        f"end to end  ({s['images']} JPEGs, {s['megapixels']:g} MP, {s['jpeg_mb_mean']} MB):  "
        f"baseline {e['baseline_ips']:7.1f} img/s   fast {e['fast_ips']:7.1f} img/s   ratio {e['ratio']:.2f}x"
    )
    print(f"end to end as share of model only: {result['e2e_share_of_model']:.0%}")
    d = result["decode"]
    print(
        f"decoding alone (fast path's pool, no model): {d['decode_only_ips']:.1f} img/s; CPU per image: decode "
        f"{d['decode_cpu_ms_per_image']:.1f} ms + model {d['model_cpu_ms_per_image']:.1f} ms, so {s['cpus']} cores "
        f"allow at most {d['e2e_ceiling_ips']:.1f} img/s end to end ({d['e2e_share_ceiling']:.0%} of model only)"
    )
    print(
        f"cosine fast vs baseline: model only min {result['cosine_min']:.5f}, "
        f"end to end min {result['cosine_min_end_to_end']:.5f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
