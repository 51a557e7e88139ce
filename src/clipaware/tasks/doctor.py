"""The setup validator: can this installation run the default model, and how fast will it be?

Each check says what it found. Only the checks marked required decide ``ok`` (and the exit code):
a CPU without AVX-512 is slower, not broken; a default model that cannot load is broken.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from clipaware.errors import ClipawareError
from clipaware.models.hub import cache_dir
from clipaware.models.registry import default_model_name
from clipaware.models.runtime import CPU_FEATURES, cpu_features


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail, "required": self.required}


@dataclass(frozen=True)
class DoctorReport:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks if c.required)

    def to_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "checks": [c.to_dict() for c in self.checks]}


def _free_disk(path: Path) -> int:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free


def _default_model_check(name: str, runtime: str | None, precision: str | None, onnx_cache: Path | None) -> Check:
    """Load the default model from local files only and embed one image and one text with it."""
    from PIL import Image

    from clipaware.models.clip import ClipModel
    from clipaware.models.hub import model_folder

    try:
        model_folder(name, allow_download=False)
        model = ClipModel.load(name, runtime=runtime, precision=precision, onnx_cache=onnx_cache)
        img = model.encode_images([Image.new("RGB", (model.image_size, model.image_size), (128, 128, 128))])
        txt = model.encode_texts(["a photo of a cat."])
        engine = model.engine.label
        if model.check is not None:
            engine += f", cosine to fp32 {min(model.check.image_cosine, model.check.text_cosine):.4f}"
        detail = (
            f"{name}: loads and runs offline ({model.family}, {img.shape[1]}-d, scale {model.logit_scale:.1f}; "
            f"engine {engine})"
        )
        return Check("default model", bool(txt.shape[0] == 1), detail, required=True)
    except ClipawareError as exc:
        return Check("default model", False, str(exc), required=True)


def _runtime_check(runtime: str | None, precision: str | None) -> Check:
    """Which engine embeddings will use here, and why (the CPU's default unless asked for another)."""
    from clipaware.models.runtime import default_choice, resolve_choice

    try:
        choice = resolve_choice(runtime, precision)
    except ClipawareError as exc:
        return Check("runtime", False, str(exc), required=True)
    default = default_choice()
    detail = f"{choice.label}, batch {choice.batch_size} ({choice.reason})"
    if (choice.runtime, choice.precision) != (default.runtime, default.precision):
        detail += f"; this CPU's default would be {default.label} ({default.reason})"
    try:
        import onnxruntime

        detail += f"; onnxruntime {onnxruntime.__version__}"
    except ImportError:
        detail += "; onnxruntime not installed"
    return Check("runtime", True, detail)


def run_doctor(
    model: str | None = None,
    runtime: str | None = None,
    precision: str | None = None,
    onnx_cache: Path | None = None,
) -> DoctorReport:
    """Run every check (no network: only what is already on this machine counts).

    ``model`` (default: the registry's default), ``runtime`` and ``precision`` are what the commands will
    use, as the CLI's ``--model`` / ``--runtime`` / ``--precision`` (or their environment variables) say.
    """
    import torch
    import transformers

    from clipaware.tasks.catalog import list_models

    checks = [
        Check("python", sys.version_info >= (3, 10), platform.python_version(), required=True),
        Check("torch", True, f"{torch.__version__} (cuda available: {torch.cuda.is_available()})", required=True),
        Check("transformers", True, transformers.__version__, required=True),
        Check("torch threads", True, f"{torch.get_num_threads()} of {os.cpu_count()} CPUs"),
    ]
    features = cpu_features()
    capability = torch.backends.cpu.get_cpu_capability()
    have = ", ".join(k for k, v in features.items() if v) or "none of " + ", ".join(CPU_FEATURES)
    checks.append(Check("cpu features", True, f"{have}; torch kernels: {capability}"))
    checks.append(_runtime_check(runtime, precision))
    cache = cache_dir()
    free_gb = _free_disk(cache) / 1e9
    checks.append(Check("model cache", free_gb > 2.0, f"{cache} ({free_gb:.1f} GB free)"))
    entries = list_models()
    cached = [e.spec.name for e in entries if e.cached]
    checks.append(
        Check("cached models", True, ", ".join(cached) if cached else "none of the registry models are cached")
    )
    checks.append(_default_model_check(model or default_model_name(), runtime, precision, onnx_cache))
    return DoctorReport(tuple(checks))
