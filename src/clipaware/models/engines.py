"""The engines that run a CLIP's two towers, and the check that lets a fast one in.

Every engine takes the same numpy inputs (preprocessed pixels; token ids and mask) and returns raw
float32 features; :class:`~clipaware.models.clip.ClipModel` normalises them. PyTorch fp32 is the
reference. Any other engine (ONNX fp32 or int8, PyTorch bf16 or int8) is first run on a small fixed input
(:func:`probe_images`, :data:`PROBE_TEXTS`) and must give vectors with cosine ≥ :data:`MIN_COSINE` to the
reference's, in both towers; otherwise it is refused with a warning and the next safer engine is tried
(ONNX int8 → ONNX fp32 → PyTorch fp32). The verdict is remembered beside the ONNX files: the check runs once.
"""

from __future__ import annotations

import copy
import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from clipaware.models.runtime import RuntimeChoice
from clipaware.models.towers import pooled

log = logging.getLogger("clipaware")

MIN_COSINE = 0.999
PROBE_TEXTS = (
    "a photo of a cat.",
    "two dogs playing on the beach at sunset",
    "a red car",
    "a drawing of a small house in the city",
)


class FastPathRefusedWarning(UserWarning):
    """A fast engine gave vectors too far from fp32 (or failed to build) and was not used."""


@dataclass(frozen=True)
class EngineCheck:
    """How close an engine's vectors came to the fp32 reference on the probe input."""

    label: str
    image_cosine: float
    text_cosine: float

    @property
    def ok(self) -> bool:
        return min(self.image_cosine, self.text_cosine) >= MIN_COSINE

    def to_dict(self) -> dict[str, object]:
        return {"image_cosine": self.image_cosine, "text_cosine": self.text_cosine, "ok": self.ok}


def probe_images(count: int = 4, seed: int = 1234) -> list[Any]:
    """Fixed, photo-like test images: smooth random colour fields with some fine texture."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    images = []
    for i in range(count):
        coarse = rng.integers(0, 256, (6 + i, 8 + i, 3), dtype=np.uint8)
        smooth = np.asarray(Image.fromarray(coarse).resize((320, 240), Image.Resampling.BICUBIC), dtype=np.int16)
        grain = rng.integers(-12, 13, smooth.shape, dtype=np.int16)
        images.append(Image.fromarray(np.clip(smooth + grain, 0, 255).astype(np.uint8)))
    return images


def min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    """The smallest row-wise cosine between two feature matrices."""
    a = a / np.linalg.norm(a, axis=1, keepdims=True).clip(1e-12)
    b = b / np.linalg.norm(b, axis=1, keepdims=True).clip(1e-12)
    return float((a * b).sum(axis=1).min())


# ---------------------------------------------------------------------------------------------- engines
class TorchEngine:
    """A transformers model in PyTorch, at fp32, bf16 (weights and activations) or int8 (dynamic, Linear)."""

    runtime = "torch"

    def __init__(self, model: Any, precision: str = "fp32", device: str = "cpu") -> None:
        import torch

        self.precision, self.device = precision, device
        self.dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        if precision == "bf16":
            model = model.to(torch.bfloat16)
        elif precision == "int8":
            from torch.ao.quantization import quantize_dynamic

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        self.model = model

    @property
    def label(self) -> str:
        return f"torch {self.precision}"

    def image(self, pixel_values: np.ndarray) -> np.ndarray:
        import torch

        pixels = torch.from_numpy(np.ascontiguousarray(pixel_values)).to(self.device, self.dtype)
        with torch.inference_mode():
            return pooled(self.model.get_image_features(pixel_values=pixels)).float().cpu().numpy()

    def text(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        import torch

        feed = {k: torch.from_numpy(np.asarray(v)).to(self.device) for k, v in inputs.items()}
        with torch.inference_mode():
            return pooled(self.model.get_text_features(**feed)).float().cpu().numpy()


class OnnxEngine:
    """Both towers as ONNX Runtime sessions, each opened on first use.

    Opening a session reads and optimises the whole graph (ViT-B/32: about a second of CPU per tower), and a
    text search never runs the image tower, so a tower costs nothing until it is asked for.
    """

    runtime = "onnx"

    def __init__(self, image_path: Path, text_path: Path, precision: str, *, spin: bool = False) -> None:
        from clipaware.lazy import Lazy
        from clipaware.models.onnx import OnnxTower

        self.precision = precision
        self.text_precision = precision
        self._image_tower = Lazy(lambda: OnnxTower(image_path, spin=spin))
        self._text_tower = Lazy(lambda: OnnxTower(text_path, spin=spin))

    @property
    def image_tower(self) -> Any:
        return self._image_tower.get()

    @property
    def text_tower(self) -> Any:
        return self._text_tower.get()

    @property
    def label(self) -> str:
        if self.text_precision != self.precision:
            return f"onnx {self.precision} (text tower {self.text_precision})"
        return f"onnx {self.precision}"

    def image(self, pixel_values: np.ndarray) -> np.ndarray:
        return self.image_tower({"pixel_values": pixel_values.astype(np.float32, copy=False)})

    def text(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        return self.text_tower(inputs)


# ------------------------------------------------------------------------------------------------ build
@dataclass
class BuiltEngine:
    """What :func:`build_engine` returns: the engine, its check, and the model facts scoring needs."""

    engine: Any
    choice: RuntimeChoice  # what actually runs (differs from the request after a refusal)
    check: EngineCheck | None
    logit_scale: float
    logit_bias: float
    model: Any | None  # the fp32 PyTorch model, when it had to be loaded


def model_facts(model: Any) -> dict[str, float]:
    bias = getattr(model, "logit_bias", None)
    return {
        "logit_scale": float(model.logit_scale.detach().float().exp().item()),
        "logit_bias": float(bias.detach().float().reshape(-1)[0].item()) if bias is not None else 0.0,
    }


def _refuse(label: str, why: str, fallback: str) -> None:
    warnings.warn(f"{label} refused ({why}); using {fallback}", FastPathRefusedWarning, stacklevel=4)


def build_engine(
    choice: RuntimeChoice,
    *,
    name: str,
    folder: Path,
    load_torch: Callable[[], Any],
    probe: Callable[[], tuple[np.ndarray, dict[str, np.ndarray]]],
    device: str = "cpu",
    onnx_cache: str | Path | None = None,
    ort_spin: bool = False,
) -> BuiltEngine:
    """Build the engine ``choice`` asks for, verified against fp32, falling back when it fails.

    Exported and quantised files (and their checks) are kept under ``onnx_cache`` (default: see
    :func:`clipaware.models.onnx.onnx_cache_root`); ``ort_spin`` lets ONNX Runtime threads spin while idle.
    """
    model: Any | None = None
    reference: tuple[np.ndarray, np.ndarray] | None = None
    probe_data: tuple[np.ndarray, dict[str, np.ndarray]] | None = None

    def torch_model() -> Any:
        nonlocal model
        if model is None:
            model = load_torch()
        return model

    def ref() -> tuple[tuple[np.ndarray, dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray]]:
        nonlocal reference, probe_data
        if reference is None:
            probe_data = probe()
            base = TorchEngine(torch_model(), "fp32", device)
            reference = (base.image(probe_data[0]), base.text(probe_data[1]))
        return probe_data, reference  # type: ignore[return-value]

    def check(engine: Any) -> EngineCheck:
        (pixels, texts), (ref_img, ref_txt) = ref()
        return EngineCheck(
            engine.label, min_cosine(engine.image(pixels), ref_img), min_cosine(engine.text(texts), ref_txt)
        )

    def reference_engine(reason: str) -> BuiltEngine:
        m = torch_model()
        return BuiltEngine(
            TorchEngine(m, "fp32", device), RuntimeChoice("torch", "fp32", reason), None, **model_facts(m), model=m
        )

    if choice.runtime == "torch" and choice.precision == "fp32":
        return reference_engine(choice.reason)

    from clipaware.models import onnx as ox

    cache = ox.cache_folder(name, folder, onnx_cache)
    checks_path, meta_path = cache / "checks.json", cache / "meta.json"
    checks = ox.read_json(checks_path)

    if choice.runtime == "torch":
        label = f"torch {choice.precision}"
        known = checks.get(label)
        if known is not None and not known.get("ok"):
            _refuse(label, f"cosine to fp32 {_worst(known):.4f} < {MIN_COSINE} when first checked", "torch fp32")
            return reference_engine(f"{label} refused: too far from fp32")
        if known is None:
            ref()  # the fp32 reference must be computed before the weights are converted
        facts = model_facts(torch_model())
        engine = TorchEngine(copy.deepcopy(torch_model()) if known is None else torch_model(), choice.precision, device)
        verdict = None
        if known is None:
            verdict = check(engine)
            ox.update_json(checks_path, **{label: verdict.to_dict()})
            if not verdict.ok:
                _refuse(label, f"cosine to fp32 {min(verdict.image_cosine, verdict.text_cosine):.4f}", "torch fp32")
                return reference_engine(f"{label} refused: too far from fp32")
        return BuiltEngine(engine, choice, verdict, model=None, **facts)

    # ONNX: each tower gets the requested precision if its vectors pass the check, else fp32 (a text tower
    # that quantises badly must not cost the image tower its speed-up), else the whole model runs in PyTorch.
    wanted = list(dict.fromkeys([choice.precision, "fp32"]))
    meta = ox.read_json(meta_path)

    def chosen(tower: str) -> str | None:
        """The first wanted precision whose check this tower passed (None: none did, PyTorch runs)."""
        for p in wanted:
            if float(checks[f"onnx {p}"].get(f"{tower}_cosine", 0.0)) >= MIN_COSINE:
                return p
        return None

    # cached: every wanted precision was checked and the file each tower will run is there (an fp32 tower that
    # int8 replaced is deleted below, so its absence must not mean "export again")
    cached = (
        bool(meta)
        and all(f"onnx {p}" in checks for p in wanted)
        and all((p := chosen(t)) is None or ox.tower_file(cache, t, p).is_file() for t in ox.TOWERS)
    )
    if cached:
        facts = {"logit_scale": meta["logit_scale"], "logit_bias": meta["logit_bias"]}
    else:
        # a long silent step otherwise: the CLI shows clipaware's log records as one status line each
        log.info(f"exporting {name} to ONNX ({' and '.join(wanted)}) for this CPU, once; ViT-B/32 takes 10-30 s")
        try:
            (pixels, texts), _ = ref()
            facts = model_facts(torch_model())
            examples = {"image": {"pixel_values": pixels[:2]}, "text": {k: v[:2, :-1] for k, v in texts.items()}}
            for tower in ox.TOWERS:
                fp32_file = ox.tower_file(cache, tower, "fp32")
                if not fp32_file.is_file():
                    ox.export_tower(torch_model(), tower, examples[tower], fp32_file)
                if "int8" in wanted and not ox.tower_file(cache, tower, "int8").is_file():
                    ox.quantize_int8(fp32_file, ox.tower_file(cache, tower, "int8"))
            ox.update_json(meta_path, **facts, text_inputs=sorted(texts))
            for p in wanted:
                engine = OnnxEngine(ox.tower_file(cache, "image", p), ox.tower_file(cache, "text", p), p)
                checks[f"onnx {p}"] = check(engine).to_dict()
            ox.update_json(checks_path, **{f"onnx {p}": checks[f"onnx {p}"] for p in wanted})
        except Exception as exc:  # an exporter or runtime failure must not stop embedding
            _refuse(f"onnx {choice.precision}", f"export failed: {type(exc).__name__}: {exc}", "torch fp32")
            return reference_engine(f"onnx export failed: {type(exc).__name__}")
    picked: dict[str, str] = {}
    for tower in ox.TOWERS:
        for p in wanted:
            cosine = float(checks[f"onnx {p}"].get(f"{tower}_cosine", 0.0))
            if cosine >= MIN_COSINE:
                picked[tower] = p
                break
            fallback = "fp32" if p != "fp32" else "torch fp32 for both towers"
            _refuse(f"onnx {p} {tower} tower", f"cosine to fp32 {cosine:.4f} < {MIN_COSINE}", fallback)
    if not cached:  # an fp32 tower that int8 replaced is never run again: only the int8 file is kept
        for tower, p in picked.items():
            if p != "fp32" and len(picked) == len(ox.TOWERS):
                ox.remove_tower(cache, tower, "fp32")
    if len(picked) < len(ox.TOWERS):
        return reference_engine("onnx export strays from fp32")
    engine = OnnxEngine(
        ox.tower_file(cache, "image", picked["image"]),
        ox.tower_file(cache, "text", picked["text"]),
        picked["image"],
        spin=ort_spin,
    )
    engine.text_precision = picked["text"]
    reason = choice.reason if picked["image"] == choice.precision else f"onnx {choice.precision} refused"
    first = checks[f"onnx {picked['image']}"]
    verdict = EngineCheck(
        engine.label, float(first["image_cosine"]), float(checks[f"onnx {picked['text']}"]["text_cosine"])
    )
    # the fp32 PyTorch model (if the export needed it) is let go: ClipModel reloads it only if asked
    return BuiltEngine(engine, RuntimeChoice("onnx", picked["image"], reason), verdict, model=None, **facts)


def _worst(known: dict[str, Any]) -> float:
    return float(min(known.get("image_cosine", 0.0), known.get("text_cosine", 0.0)))
