"""Which engine runs the towers: PyTorch or ONNX Runtime, at fp32, bf16 or int8, chosen for this CPU.

The naive loop (PyTorch, fp32) is the reference every other choice is checked against. The fast paths
trade a little precision for a lot of speed, and which one wins depends on the CPU's instructions:

* **VNNI** (``avx512_vnni``, ``avx_vnni``, ``amx_int8``) multiplies and accumulates int8 in one instruction,
  so ONNX Runtime's dynamically quantised int8 graph runs several times faster than fp32.
* **BF16** (``avx512_bf16``, ``amx_bf16``) without VNNI: PyTorch's oneDNN bf16 kernels halve the memory
  traffic and double the multiply rate.
* **AVX2** without either: ONNX Runtime int8 with 7-bit weights (``reduce_range``): AVX2's u8×s8 kernel adds
  pairs of products into 16 bits, which full 8-bit weights overflow; 7-bit ones cannot. Measured on the
  ViT-B/32 twin (AMD EPYC, AVX2 only): image tower cosine 0.9997, 1.86× fp32's speed; its text tower
  (0.9986) fails the 0.999 gate and stays fp32, tower by tower.
* none of these (e.g. ARM): ONNX Runtime fp32.

An explicit ``runtime=`` / ``precision=`` wins over the CPU's default. The command line turns
``--runtime`` / ``--precision`` (or ``CLIPAWARE_RUNTIME`` / ``CLIPAWARE_PRECISION``) into those arguments at
the door; nothing here reads flags or the environment.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from pathlib import Path

from clipaware.errors import UsageError

RUNTIMES = ("torch", "onnx")
PRECISIONS = ("fp32", "bf16", "int8")

# CPU flags (as /proc/cpuinfo names them) that change which fast paths are worth taking.
CPU_FEATURES = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")
VNNI_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")
BF16_FLAGS = ("avx512_bf16", "amx_bf16")

# Images per forward pass. ONNX Runtime reaches its full rate on CPU by 16 images, and smaller batches
# let decoding overlap inference in finer steps; PyTorch's fp32 loop keeps the classic 32.
BATCH_SIZES = {"torch": 32, "onnx": 16}


def cpu_features() -> dict[str, bool]:
    """Which of :data:`CPU_FEATURES` this CPU has (Linux reads /proc/cpuinfo; elsewhere all False)."""
    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                flags.update(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    return {name: name in flags for name in CPU_FEATURES}


def int8_reduced_range(features: dict[str, bool] | None = None) -> bool:
    """Whether int8 weights should use 7 bits: without VNNI, AVX2's u8×s8 kernel adds pairs of products into
    16 bits, which full-range weights overflow (measured: the tiny text tower's cosine 0.966 → 0.999)."""
    f = cpu_features() if features is None else features
    return not any(f.get(k) for k in VNNI_FLAGS)


def cpu_class(features: dict[str, bool] | None = None) -> dict[str, bool]:
    """The CPU class a speed figure holds for: AVX2, AVX-512, VNNI (any int8 dot-product form), BF16, AMX."""
    f = cpu_features() if features is None else features
    return {
        "avx2": bool(f.get("avx2")),
        "avx512": bool(f.get("avx512f")),
        "vnni": any(f.get(k) for k in VNNI_FLAGS),
        "bf16": any(f.get(k) for k in BF16_FLAGS),
        "amx": bool(f.get("amx_bf16") or f.get("amx_int8")),
    }


@dataclass(frozen=True)
class RuntimeChoice:
    """A runtime and precision, and why they were picked (shown by ``clipaware doctor``)."""

    runtime: str
    precision: str
    reason: str

    @property
    def batch_size(self) -> int:
        return BATCH_SIZES[self.runtime]

    @property
    def label(self) -> str:
        return f"{self.runtime} {self.precision}"

    def to_dict(self) -> dict[str, object]:
        return {"runtime": self.runtime, "precision": self.precision, "reason": self.reason}


def default_choice(features: dict[str, bool] | None = None) -> RuntimeChoice:
    """The fastest choice for a CPU with ``features`` (this CPU's when None); see the module docstring."""
    features = cpu_features() if features is None else features
    vnni = [f for f in VNNI_FLAGS if features.get(f)]
    bf16 = [f for f in BF16_FLAGS if features.get(f)]
    if vnni:
        return RuntimeChoice("onnx", "int8", f"CPU has {vnni[0]}: int8 dot products run in one instruction")
    if bf16:
        return RuntimeChoice("torch", "bf16", f"CPU has {bf16[0]} but no VNNI: bf16 matrix kernels")
    if features.get("avx2"):
        return RuntimeChoice(
            "onnx",
            "int8",
            "AVX2 without VNNI: int8 with 7-bit weights (u8×s8 pairs cannot saturate), each tower kept only if "
            "its vectors stay within 0.999 cosine of fp32",
        )
    arch = platform.machine() or "this CPU"
    return RuntimeChoice("onnx", "fp32", f"no VNNI or BF16 on {arch}: ONNX Runtime fp32, nothing lost")


def _checked(value: str, allowed: tuple[str, ...], what: str) -> str:
    value = value.strip().lower()
    if value not in allowed:
        raise UsageError(f"unknown {what} {value!r}: choose one of {', '.join(allowed)}")
    return value


def resolve_choice(runtime: str | None = None, precision: str | None = None) -> RuntimeChoice:
    """The runtime and precision to use: the arguments, else the CPU's default.

    Naming only one of them picks a sensible partner: ``--runtime torch`` alone is the fp32 reference,
    ``--runtime onnx`` alone takes the CPU default's precision if ONNX can run it, ``--precision bf16``
    alone runs on PyTorch (ONNX Runtime has no bf16 CPU kernels), ``--precision int8`` alone on ONNX.
    """
    runtime = runtime or None
    precision = precision or None
    default = default_choice()
    if runtime is None and precision is None:
        return default
    if runtime is not None:
        runtime = _checked(runtime, RUNTIMES, "runtime")
    if precision is not None:
        precision = _checked(precision, PRECISIONS, "precision")
    if runtime is None:
        runtime = "torch" if precision == "bf16" else "onnx"
    if precision is None:
        if runtime == "torch":
            precision = "fp32"
        else:
            precision = default.precision if default.precision in ("fp32", "int8") else "fp32"
    if runtime == "onnx" and precision == "bf16":
        raise UsageError(
            "ONNX Runtime has no bf16 kernels for CPU; use --runtime torch --precision bf16, or --precision int8"
        )
    return RuntimeChoice(runtime, precision, "asked for")
