"""Choosing the engine: CPU features → default, explicit arguments over it; flags and environment at the door."""

from __future__ import annotations

import pytest

from clipaware.errors import UsageError
from clipaware.models import runtime
from clipaware.models.runtime import default_choice, resolve_choice

NONE = dict.fromkeys(runtime.CPU_FEATURES, False)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"avx2": True, "avx512f": True, "avx512_vnni": True, "avx512_bf16": True}, ("onnx", "int8")),
        ({"avx2": True, "avx_vnni": True}, ("onnx", "int8")),
        ({"avx2": True, "avx512f": True, "avx512_bf16": True}, ("torch", "bf16")),
        ({"avx2": True}, ("onnx", "int8")),  # 7-bit weights, gated per tower
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


def test_resolution_order(vnni_cpu: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLIPAWARE_RUNTIME", "torch")  # read at the CLI's door only: no effect down here
    monkeypatch.setenv("CLIPAWARE_PRECISION", "bf16")
    assert resolve_choice().label == "onnx int8"
    assert resolve_choice("torch").label == "torch fp32"  # runtime alone: its reference precision
    assert resolve_choice("onnx", "fp32").label == "onnx fp32"
    assert resolve_choice("torch", "bf16").label == "torch bf16"  # explicit arguments beat the CPU's default


def test_the_flag_beats_the_environment_which_beats_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    import typer

    from clipaware.cli import app

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    for name, args in (("search", ["a cat"]), ("ask", ["x.jpg", "how many?"]), ("diagnose", ["--image", "x.jpg",
                       "--query", "q"]), ("classify", ["x.jpg", "-l", "a,b"]), ("index", ["photos"])):  # fmt: skip
        command = commands[name]
        monkeypatch.delenv("CLIPAWARE_RUNTIME", raising=False)
        monkeypatch.delenv("CLIPAWARE_PRECISION", raising=False)
        params = command.make_context(name, list(args)).params
        assert (params["runtime"], params["precision"]) == (None, None), name  # the CPU's default, later
        monkeypatch.setenv("CLIPAWARE_RUNTIME", "torch")
        monkeypatch.setenv("CLIPAWARE_PRECISION", "bf16")
        params = command.make_context(name, list(args)).params
        assert (params["runtime"], params["precision"]) == ("torch", "bf16"), name
        params = command.make_context(name, [*args, "--runtime", "onnx", "--precision", "fp32"]).params
        assert (params["runtime"], params["precision"]) == ("onnx", "fp32"), name


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
    with pytest.raises(UsageError, match="fp32, bf16, int8"):
        resolve_choice(None, "fp8")


def test_batch_size_suits_the_runtime() -> None:
    assert resolve_choice("onnx", "int8").batch_size == runtime.BATCH_SIZES["onnx"]
    assert resolve_choice("torch", "fp32").batch_size == runtime.BATCH_SIZES["torch"]


def test_cpu_class_names_what_a_speed_figure_holds_for() -> None:
    from clipaware.models.runtime import cpu_class

    avx2_only = {"avx2": True}
    assert cpu_class(avx2_only) == {"avx2": True, "avx512": False, "vnni": False, "bf16": False, "amx": False}
    sapphire = {"avx2": True, "avx512f": True, "avx512_vnni": True, "avx512_bf16": True, "amx_int8": True}
    assert cpu_class(sapphire) == {"avx2": True, "avx512": True, "vnni": True, "bf16": True, "amx": True}
    assert cpu_class({"avx2": True, "avx_vnni": True})["vnni"]  # Alder Lake's VEX form counts


def test_int8_weights_are_7_bit_only_without_vnni() -> None:
    assert runtime.int8_reduced_range({**NONE, "avx2": True})
    assert not runtime.int8_reduced_range({**NONE, "avx2": True, "avx512_vnni": True})
