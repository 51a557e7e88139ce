"""ONNX Runtime towers: export once, cache beside the model, quantise to int8, run.

Each tower (image, text) is exported from the PyTorch model the first time it is asked for, written to
``<hub cache>/clipaware-onnx/<model>/<weights key>-<versions>/`` and reused from then on; a later load
reads only these files (no PyTorch weights), which also makes ``clipaware search`` start faster. The key
is the hub revision (the snapshot folder's commit) or, for a local folder, a content hash of its weight
files, plus the torch / onnx / onnxruntime versions: new weights or a new exporter mean a new export.

int8 is ONNX Runtime's dynamic quantisation: weights stored as int8 per output channel, activations quantised on
the fly per batch, so it needs no calibration data. Whether that keeps the vectors is checked by the
caller (:mod:`clipaware.models.engines`) against the fp32 PyTorch model before the files are trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

OPSET = 17
# Bumped whenever the export or quantisation recipe changes, so that old cached files are not reused.
# 3: the patch embedding is exported as a MatMul (see patch_projection), so int8 covers it too, and a
#    CLIP image tower's last layer computes the class token only (see _cls_only_layer), and int8 weights
#    are scaled per output channel (see quantize_int8).
RECIPE = 3
TOWERS = ("image", "text")
TEXT_INPUTS = ("input_ids", "attention_mask")


def onnx_cache_root(root: str | os.PathLike[str] | None = None) -> Path:
    """``root`` (the CLI's ``--onnx-cache`` / ``CLIPAWARE_ONNX_CACHE``), else ``clipaware-onnx`` in the hub cache."""
    from clipaware.models.hub import cache_dir

    return Path(root).expanduser() if root else cache_dir() / "clipaware-onnx"


def versions_key() -> str:
    """The exporter and runtime versions that shape the files (a change means re-export).

    Read from the installed packages' metadata, which names the same versions as their ``__version__``
    without importing torch (seconds) on the warm path that never runs it.
    """
    from importlib import metadata

    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "none"

    from clipaware.models.runtime import int8_reduced_range

    recipe = f"r{RECIPE}" + ("rr" if int8_reduced_range() else "")  # 7-bit int8 weights: another file
    versions = f"{recipe}-torch{version('torch')}-onnx{version('onnx')}-ort{version('onnxruntime')}"
    return versions.replace("+", "_")


def _weight_files(folder: Path) -> list[Path]:
    files = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("pytorch_model*.bin"))
    return files or sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in {".bin", ".pt", ".pth"})


def weights_key(folder: Path, root: str | os.PathLike[str] | None = None) -> str:
    """The hub revision of a snapshot folder, else a content hash of the folder's weights and config.

    Hashing gigabytes on every load would cost seconds, so the hash is remembered per file (path, size,
    mtime) in a small memo file in the cache root.
    """
    folder = Path(folder).resolve()
    if folder.parent.name == "snapshots" and re.fullmatch(r"[0-9a-f]{40}", folder.name):
        return folder.name
    memo_path = onnx_cache_root(root) / "local-weights.json"
    try:
        memo = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        memo = {}
    digest = hashlib.sha256()
    changed = False
    for path in [folder / "config.json", *_weight_files(folder)]:
        st = path.stat()
        memo_key = f"{path}|{st.st_size}|{st.st_mtime_ns}"
        if memo_key not in memo:
            file_hash = hashlib.sha256()
            with path.open("rb") as handle:
                for block in iter(lambda h=handle: h.read(1 << 22), b""):
                    file_hash.update(block)
            memo[memo_key] = file_hash.hexdigest()
            changed = True
        digest.update(memo[memo_key].encode())
    if changed:
        _write_json(memo_path, memo)
    return "sha" + digest.hexdigest()[:20]


def cache_folder(name: str, folder: Path, root: str | os.PathLike[str] | None = None) -> Path:
    """Where the ONNX files of model ``name`` (loaded from ``folder``) live, under ``root`` (see onnx_cache_root)."""
    key = f"{weights_key(folder, root)}-{versions_key()}"
    return onnx_cache_root(root) / cache_name(name) / key


def _write_json(path: Path, payload: object) -> None:
    """Write atomically: two processes exporting at once must never leave half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as handle:
        json.dump(payload, handle, indent=1, sort_keys=True)
    os.replace(handle.name, path)


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def update_json(path: Path, **entries: Any) -> None:
    data = read_json(path)
    data.update(entries)
    _write_json(path, data)


def tower_file(folder: Path, tower: str, precision: str) -> Path:
    return folder / f"{tower}-{precision}.onnx"


def remove_tower(folder: Path, tower: str, precision: str) -> bool:
    """Delete one tower's file, unless the folder holds external-data files (whose owner we cannot tell)."""
    path = tower_file(folder, tower, precision)
    extras = [p for p in folder.iterdir() if p.is_file() and p.suffix not in (".onnx", ".json")]
    if not path.is_file() or extras:
        return False
    path.unlink()
    return True


# ------------------------------------------------------------------------------------------------ export
def is_patchify_conv(module: Any) -> bool:
    """A Conv2d whose stride equals its kernel: a ViT patch embedding (non-overlapping patches)."""
    import torch

    return (
        isinstance(module, torch.nn.Conv2d)
        and tuple(module.stride) == tuple(module.kernel_size)
        and module.padding in ((0, 0), "valid")
        and tuple(module.dilation) == (1, 1)
        and module.groups == 1
    )


def patch_projection(conv: Any) -> Any:
    """The MatMul twin of a patchifying Conv2d: the same output, computed as patches × flattened kernel.

    Such a convolution cuts the image into non-overlapping patches and projects each one, which is a
    reshape of the pixels into ``(patches, channels·kh·kw)`` rows times the flattened kernel. Exported that
    way, ONNX Runtime's dynamic quantiser turns it into an int8 MatMul like every other projection; as a
    Conv it stayed fp32 (ConvInteger was slower still) and took 8 % of ViT-B/32's int8 time for 3 % of its
    FLOPs. Measured on the 2-core development machine: about +8 % images/s for the int8 image tower. The
    twin equals the convolution within float32 rounding (tested).
    """
    import torch

    class PatchProjection(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.kh, self.kw = conv.kernel_size
            # (out, in, kh, kw) → (in·kh·kw, out): rows in the same (channel, y, x) order as the patches
            self.weight = torch.nn.Parameter(conv.weight.detach().reshape(conv.out_channels, -1).t().contiguous())
            self.bias = None if conv.bias is None else torch.nn.Parameter(conv.bias.detach().clone())

        def forward(self, pixels: torch.Tensor) -> torch.Tensor:
            batch, channels, height, width = pixels.shape
            gh, gw = height // self.kh, width // self.kw
            if height % self.kh or width % self.kw:  # the convolution drops the ragged edge; so do we
                pixels = pixels[:, :, : gh * self.kh, : gw * self.kw]
            patches = pixels.reshape(batch, channels, gh, self.kh, gw, self.kw).permute(0, 2, 4, 1, 3, 5)
            out = patches.reshape(batch, gh, gw, channels * self.kh * self.kw) @ self.weight
            if self.bias is not None:
                out = out + self.bias
            return out.permute(0, 3, 1, 2)  # back to the convolution's (batch, out, gh, gw)

    return PatchProjection()


@contextlib.contextmanager
def _patch_embeddings_as_matmul(model: Any) -> Iterator[int]:
    """Swap every patchifying Conv2d of ``model`` for its :func:`patch_projection`, and back afterwards."""
    swapped: list[tuple[Any, str, Any]] = []
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if is_patchify_conv(child):
                swapped.append((parent, name, child))
                setattr(parent, name, patch_projection(child))
    try:
        yield len(swapped)
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)


def _cls_only_layer(layer: Any) -> Any:
    """A CLIP vision encoder's last layer that computes the class token's row only.

    CLIP's image features read one row of the last layer: the class token's (``last_hidden_state[:, 0]``
    → post-layernorm → projection). In that layer every token still serves as a key and value, but only
    the class token needs its query, attention output, output projection and MLP, so the other 49 rows of
    ViT-B/32 (256 of ViT-L/14) skip 83 % of the layer: 7 % of the whole model's multiply-adds, with the
    same result (tested against the full model).
    """
    import torch

    attn = layer.self_attn
    probe = torch.zeros(1, 2, attn.embed_dim)
    with torch.no_grad():  # transformers 4 layers take a causal mask too and return (hidden,); 5 a tensor
        try:
            as_tuple = isinstance(layer(probe, None), tuple)
        except TypeError:
            as_tuple = isinstance(layer(probe, None, None), tuple)

    class ClsOnly(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer = layer

        def forward(self, hidden: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
            batch, tokens, width = hidden.shape
            heads, head_dim = attn.num_heads, attn.head_dim
            normed = layer.layer_norm1(hidden)
            query = attn.q_proj(normed[:, :1]).view(batch, 1, heads, head_dim).transpose(1, 2)
            keys = attn.k_proj(normed).view(batch, tokens, heads, head_dim).transpose(1, 2)
            values = attn.v_proj(normed).view(batch, tokens, heads, head_dim).transpose(1, 2)
            weights = torch.softmax((query @ keys.transpose(-1, -2)) * attn.scale, dim=-1)
            mixed = (weights @ values).transpose(1, 2).reshape(batch, 1, width)
            out = hidden[:, :1] + attn.out_proj(mixed)
            out = out + layer.mlp(layer.layer_norm2(out))
            return (out,) if as_tuple else out

    return ClsOnly()


@contextlib.contextmanager
def _last_layer_cls_only(model: Any) -> Iterator[bool]:
    """For CLIP (class-token pooling) only, swap in :func:`_cls_only_layer`; SigLIP pools every token."""
    vision = getattr(model, "vision_model", None)
    layers = getattr(getattr(vision, "encoder", None), "layers", None)
    applies = (
        getattr(model.config, "model_type", "") == "clip"
        and layers is not None
        and len(layers) > 0
        and all(hasattr(getattr(layers[-1], "self_attn", None), a) for a in ("q_proj", "k_proj", "v_proj", "scale"))
    )
    if not applies:
        yield False
        return
    original = layers[-1]
    layers[-1] = _cls_only_layer(original)
    try:
        yield True
    finally:
        layers[-1] = original


def _tower_module(model: Any, tower: str, text_inputs: Sequence[str]) -> Any:
    """A module whose forward is exactly what ClipModel runs for one tower (pooled, projected, raw)."""
    import torch

    from clipaware.models.towers import pooled

    class ImageTower(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
            return pooled(self.model.get_image_features(pixel_values=pixel_values))

    class TextTower(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
            kwargs = {"attention_mask": attention_mask} if "attention_mask" in text_inputs else {}
            return pooled(self.model.get_text_features(input_ids=input_ids, **kwargs))

    return ImageTower() if tower == "image" else TextTower()


def export_tower(
    model: Any,
    tower: str,
    example: dict[str, np.ndarray],
    dest: Path,
) -> Path:
    """Export one tower of a PyTorch CLIP/SigLIP model to ``dest`` (batch and text length dynamic).

    Uses the TorchScript-based exporter, which works with torch 2.13 without onnxscript and exports
    ViT-B/32 in seconds; the dynamo exporter is the fallback for torch builds that dropped it. Attention
    is exported in its eager form: the tracer cannot follow the fused kernel's shape-dependent branches,
    and the patch embedding as a MatMul (:func:`patch_projection`) so that int8 quantisation reaches it;
    a CLIP image tower's last layer computes only the class token that its features read
    (:func:`_cls_only_layer`).
    """
    import torch

    names = list(example)
    module = _tower_module(model, tower, names).eval()
    args = tuple(torch.from_numpy(example[n]) for n in names)
    axes = {n: ({0: "batch"} if tower == "image" else {0: "batch", 1: "length"}) for n in names}
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".export-"))
    target = work / dest.name
    previous = getattr(model.config, "_attn_implementation", None)
    try:
        _set_attention(model, "eager")
        with (
            warnings.catch_warnings(),
            torch.inference_mode(False),
            torch.no_grad(),
            _patch_embeddings_as_matmul(model) if tower == "image" else contextlib.nullcontext(),
            _last_layer_cls_only(model) if tower == "image" else contextlib.nullcontext(),
        ):
            warnings.simplefilter("ignore")
            try:
                torch.onnx.export(
                    module,
                    args,
                    str(target),
                    input_names=names,
                    output_names=["features"],
                    dynamic_axes={**axes, "features": {0: "batch"}},
                    opset_version=OPSET,
                    dynamo=False,
                )
            except Exception:  # the TorchScript exporter is gone or failed: try the dynamo one
                batch = torch.export.Dim("batch", min=1, max=4096)
                shapes = {n: ({0: batch} if tower == "image" else {0: batch, 1: torch.export.Dim.AUTO}) for n in names}
                torch.onnx.export(
                    module,
                    args,
                    str(target),
                    input_names=names,
                    output_names=["features"],
                    dynamic_shapes=shapes,
                    opset_version=max(OPSET, 18),
                    dynamo=True,
                )
        _move_model(target, dest)
    finally:
        _set_attention(model, previous)
        shutil.rmtree(work, ignore_errors=True)
    return dest


def _set_attention(model: Any, implementation: str | None) -> None:
    if implementation is None:
        return
    setter = getattr(model, "set_attn_implementation", None)
    if setter is not None:
        try:
            setter(implementation)
            return
        except Exception:  # older transformers: set the config fields directly
            pass
    for config in (
        model.config,
        getattr(model.config, "text_config", None),
        getattr(model.config, "vision_config", None),
    ):
        if config is not None:
            config._attn_implementation = implementation


def _move_model(source: Path, dest: Path) -> None:
    """Move an ONNX file and its external-data files (same folder) into place, model file last."""
    for extra in source.parent.iterdir():
        if extra != source:
            os.replace(extra, dest.parent / extra.name)
    os.replace(source, dest)


def quantize_int8(source: Path, dest: Path, reduce_range: bool | None = None) -> Path:
    """Dynamic int8 quantisation of the MatMuls (uint8 activations × int8 weights: the VNNI pairing).

    Only MatMul is quantised: the patch embedding arrives as one (:func:`patch_projection`), so it is
    covered, while ONNX Runtime's ConvInteger (20 % of the int8 graph's time when tried) is never used;
    the token-embedding Gather stays exact. Weights get one scale per output channel rather than one per
    matrix: on the ViT-L/14 twin that lifts the text tower's cosine to fp32 from 0.9989 (refused by the
    0.999 gate) to 0.9994, and trained weights, whose channels differ more in range than random ones,
    gain more; the int8 kernels ran no slower for it here.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from clipaware.models.runtime import int8_reduced_range

    if reduce_range is None:  # 7-bit weights where the CPU lacks VNNI (see runtime.int8_reduced_range)
        reduce_range = int8_reduced_range()
    work = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".quant-"))
    target = work / dest.name
    large = sum(p.stat().st_size for p in source.parent.glob(source.name + "*")) > 1_800_000_000
    try:
        with warnings.catch_warnings(), _quiet_root_logger():
            warnings.simplefilter("ignore")
            quantize_dynamic(
                str(source),
                str(target),
                weight_type=QuantType.QInt8,
                op_types_to_quantize=["MatMul"],
                per_channel=True,
                reduce_range=reduce_range,
                use_external_data_format=large,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
        _move_model(target, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """The quantiser logs advice ("consider pre-processing") on the root logger; users cannot act on it."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)


# ------------------------------------------------------------------------------------------------ run
def make_session(path: Path, threads: int | None = None, *, spin: bool = False) -> Any:
    """An ONNX Runtime CPU session with full graph optimisation.

    Spinning is off unless ``spin`` (the CLI's ``--ort-spin`` / ``CLIPAWARE_ORT_SPIN``): idle runtime threads
    that spin steal the cores the decoding workers need while a batch is being prepared, which costs more
    end to end than the spin saves.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxTower:
    """One exported tower: numpy inputs in, raw (unnormalised) float32 features out."""

    def __init__(self, path: Path, threads: int | None = None, *, spin: bool = False) -> None:
        self.path = path
        self.session = make_session(path, threads, spin=spin)
        self.inputs = tuple(i.name for i in self.session.get_inputs())

    def __call__(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        feed = {name: np.ascontiguousarray(inputs[name]) for name in self.inputs}
        for name in self.inputs:
            if name != "pixel_values":
                feed[name] = feed[name].astype(np.int64, copy=False)
        return np.asarray(self.session.run(None, feed)[0], dtype=np.float32)


# ------------------------------------------------------------------------------------------- inventory
@dataclass(frozen=True)
class CachedEngine:
    """One exported engine folder: whose it is, which tower files are ready, their size, and whether the
    installed torch / onnx / onnxruntime (and export recipe) still match the ones that made it."""

    model: str  # the folder's readable name: ``openai--clip-vit-base-patch32`` or ``local--NAME``
    path: Path
    towers: tuple[str, ...]  # e.g. ("image-fp32", "text-fp32")
    size_bytes: int
    current: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "path": str(self.path),
            "towers": list(self.towers),
            "size_bytes": self.size_bytes,
            "current": self.current,
        }


def cache_name(name: str) -> str:
    """The folder name a model's engines live under (see :func:`cache_folder`)."""
    from clipaware.models.hub import is_local_reference

    readable = "local--" + Path(name).name if is_local_reference(name) else name.replace("/", "--")
    return re.sub(r"[^\w.-]", "_", readable)


def cached_engines(root: str | os.PathLike[str] | None = None) -> list[CachedEngine]:
    """Every engine folder under the cache root (see :func:`onnx_cache_root`), sorted by model."""
    base = onnx_cache_root(root)
    if not base.is_dir():
        return []
    suffix = "-" + versions_key()
    found = []
    for model_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        for folder in sorted(p for p in model_dir.iterdir() if p.is_dir()):
            files = [p for p in folder.rglob("*") if p.is_file()]
            towers = tuple(sorted(p.stem for p in folder.glob("*.onnx")))
            size = sum(p.stat().st_size for p in files)
            found.append(CachedEngine(model_dir.name, folder, towers, size, folder.name.endswith(suffix)))
    return found


def prune_engines(root: str | os.PathLike[str] | None = None) -> list[CachedEngine]:
    """Delete the engine folders that the installed versions would not load (they are exported anew when
    needed); return what was removed. Folders left empty go too."""
    removed = [engine for engine in cached_engines(root) if not engine.current]
    for engine in removed:
        shutil.rmtree(engine.path, ignore_errors=True)
        with contextlib.suppress(OSError):
            engine.path.parent.rmdir()  # only succeeds when empty
    return removed
