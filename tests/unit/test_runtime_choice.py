"""Choosing the engine: CPU features → default, and the order explicit > CLI > environment > default."""

from __future__ import annotations

import pytest

from clipaware.errors import UsageError
from clipaware.models import runtime
from clipaware.models.runtime import default_choice, preferred_runtime, resolve_choice

NONE = dict.fromkeys(runtime.CPU_FEATURES, False)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"avx2": True, "avx512f": True, "avx512_vnni": True, "avx512_bf16": True}, ("onnx", "int8")),
        ({"avx2": True, "avx_vnni": True}, ("onnx", "int8")),
        ({"avx2": True, "avx512f": True, "avx512_bf16": True}, ("torch", "bf16")),
        ({"avx2": True}, ("onnx", "fp32")),
        ({}, ("onnx", "fp32")),
    ],
)
def test_default_follows_the_cpu(flags: dict[str, bool], expected: tuple[str, str]) -> None:
    choice = default_choice({**NONE, **flags})
    assert (choice.runtime, choice.precision) == expected
    assert choice.reason  # doctor shows why


def test_this_machines_flags_are_read() -> None:
    features = runtime.cpu_features()
    assert set(features) == set(runtime.CPU_FEATURES)


@pytest.fixture()
def vnni_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "cpu_features", lambda: {**NONE, "avx2": True, "avx512_vnni": True})
    monkeypatch.delenv(runtime.RUNTIME_ENV, raising=False)
    monkeypatch.delenv(runtime.PRECISION_ENV, raising=False)


def test_resolution_order(vnni_cpu: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_choice().label == "onnx int8"
    monkeypatch.setenv(runtime.RUNTIME_ENV, "torch")
    assert resolve_choice().label == "torch fp32"  # runtime alone: its reference precision
    with preferred_runtime("onnx", "fp32"):
        assert resolve_choice().label == "onnx fp32"  # the CLI's flags beat the environment
        assert resolve_choice("torch", "bf16").label == "torch bf16"  # explicit arguments beat both
    assert resolve_choice().label == "torch fp32"  # the CLI's choice ends with its block


def test_one_half_picks_a_sensible_partner(vnni_cpu: None) -> None:
    assert resolve_choice(precision="bf16").label == "torch bf16"
    assert resolve_choice(precision="int8").label == "onnx int8"
    assert resolve_choice(runtime="onnx").label == "onnx int8"
    assert resolve_choice(runtime="TORCH").label == "torch fp32"


def test_bad_combinations_are_usage_errors(vnni_cpu: None) -> None:
    with pytest.raises(UsageError, match="no bf16 kernels"):
        resolve_choice("onnx", "bf16")
    with pytest.raises(UsageError, match="torch, onnx"):
        resolve_choice("tensorflow")
    with pytest.raises(UsageError, match="fp32, bf16, int8"), preferred_runtime(None, "fp8"):
        pass


def test_batch_size_suits_the_runtime() -> None:
    assert resolve_choice("onnx", "int8").batch_size == runtime.BATCH_SIZES["onnx"]
    assert resolve_choice("torch", "fp32").batch_size == runtime.BATCH_SIZES["torch"]
