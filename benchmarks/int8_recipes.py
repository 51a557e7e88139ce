"""Which int8 recipe keeps CLIP's vectors on an AVX2 CPU without VNNI, and is any of them faster than fp32?

ONNX Runtime's dynamic int8 MatMul multiplies uint8 activations by int8 weights. Without VNNI the AVX2 kernel
(``vpmaddubsw``) adds pairs of those products into int16 and saturates, so vectors drift (a tiny text tower
measured cosine 0.966). The known ways around it, each measured here against the exported fp32 towers:

* ``u8s8``: today's recipe (per-channel int8 weights), the baseline that saturates;
* ``u8s8-reduced``: 7-bit weights (``reduce_range``), so a pair of products cannot overflow int16;
* ``u8u8``: uint8 weights too (ONNX Runtime's non-saturating u8u8 kernel);
* ``static``: QDQ quantisation with activation ranges calibrated on the model's own probe set (image tower).

Per recipe and tower: the smallest cosine to fp32 on the probe images/texts (the gate is 0.999), and the
CPU seconds per forward pass beside fp32's, alternated in one run. Prints the CPU class and the load.

    python benchmarks/int8_recipes.py --model b32 --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def cpu_seconds(run: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return float(np.median(times))


def quantise(source: Path, dest: Path, recipe: str, calibration: list[dict[str, np.ndarray]] | None) -> Path:
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )

    extra = {"DefaultTensorType": onnx.TensorProto.FLOAT}
    if recipe == "static":

        class Reader(CalibrationDataReader):
            def __init__(self) -> None:
                self.items = iter(calibration or [])

            def get_next(self) -> dict[str, np.ndarray] | None:
                return next(self.items, None)

        quantize_static(
            str(source),
            str(dest),
            Reader(),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
            extra_options=extra,
        )
        return dest
    weight = QuantType.QUInt8 if recipe == "u8u8" else QuantType.QInt8
    quantize_dynamic(
        str(source),
        str(dest),
        weight_type=weight,
        op_types_to_quantize=["MatMul"],
        per_channel=recipe != "u8u8",
        reduce_range=recipe == "u8s8-reduced",
        extra_options=extra,
    )
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="b32", help="b32 (ViT-B/32 random twin) or tiny")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "clipaware-int8")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    opts = parser.parse_args()

    from clipaware.models import onnx as ox
    from clipaware.models.clip import ClipModel
    from clipaware.models.engines import PROBE_TEXTS, min_cosine, probe_images
    from clipaware.models.runtime import cpu_class
    from clipaware.testing import random_twin, save_tiny_model

    load_before = os.getloadavg()[0]
    opts.workdir.mkdir(parents=True, exist_ok=True)
    folder = opts.workdir / opts.model
    if not (folder / "config.json").is_file():
        random_twin("openai/clip-vit-base-patch32", folder) if opts.model == "b32" else save_tiny_model(folder)
    model = ClipModel.load(folder, runtime="onnx", precision="fp32", onnx_cache=opts.workdir / "onnx")
    cache = ox.cache_folder(model.name, folder, opts.workdir / "onnx")
    images = probe_images(16)
    texts = [*PROBE_TEXTS, "a photo of a dog", "two cats on a red chair", "a blue car in the city at sunset"]
    pixels = model.preprocess_batch(images)
    tokens = model.tokenize(texts)
    inputs = {"image": {"pixel_values": pixels}, "text": tokens}
    fp32 = {t: ox.OnnxTower(ox.tower_file(cache, t, "fp32")) for t in ox.TOWERS}
    reference = {t: fp32[t](inputs[t]) for t in ox.TOWERS}
    calibration = [{"pixel_values": pixels[i : i + 1]} for i in range(len(pixels))]
    results: dict[str, Any] = {}
    for recipe in ("u8s8", "u8s8-reduced", "u8u8", "static"):
        for tower in ox.TOWERS:
            if recipe == "static" and tower == "text":  # variable-length text: calibration by length is future work
                continue
            dest = opts.workdir / f"{opts.model}-{tower}-{recipe}.onnx"
            try:
                if not dest.is_file():
                    quantise(ox.tower_file(cache, tower, "fp32"), dest, recipe, calibration)
                engine = ox.OnnxTower(dest)
                cosine = min_cosine(engine(inputs[tower]), reference[tower])
                ours, base = [], []
                for _ in range(opts.repeats):  # alternated with fp32
                    ours.append(cpu_seconds(lambda e=engine, t=tower: e(inputs[t]), 1))
                    base.append(cpu_seconds(lambda t=tower: fp32[t](inputs[t]), 1))
                results[f"{recipe} {tower}"] = {
                    "cosine_min": round(cosine, 5),
                    "passes_gate": cosine >= 0.999,
                    "cpu_s": round(float(np.median(ours)), 4),
                    "fp32_cpu_s": round(float(np.median(base)), 4),
                    "speedup": round(float(np.median(base)) / float(np.median(ours)), 2),
                }
            except Exception as exc:  # a recipe the installed quantiser cannot apply is reported, not fatal
                results[f"{recipe} {tower}"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    report = {
        "cpu": cpu_class(),
        "model": opts.model,
        "batch": {"images": len(images), "texts": len(texts)},
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "recipes": results,
    }
    print(json.dumps(report, indent=1) if opts.json else report)


if __name__ == "__main__":
    main()
