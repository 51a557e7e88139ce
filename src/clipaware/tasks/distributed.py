"""Decoding and embedding on Ray, for folders too large for one machine's CPUs.

Only the expensive, embarrassingly parallel part moves: each Ray actor loads the model once and turns
batches of paths into vectors (read → decode → embed), as a Ray Data pipeline (``map_batches`` over an
actor pool). What to embed, and writing the results, stays in the indexing task on the driver, which
writes each returned batch in one transaction as it arrives — so a Ray run is crash-safe and resumable
exactly like a local one, and its rows are the same rows: same loader, same model, same store.

The workers must be able to import clipaware and read the image paths (a shared filesystem on a
cluster). Without an address (``"local"``) a Ray instance is started here and stopped afterwards; an
already initialised Ray (``ray.init`` by the caller) is used as it is.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from clipaware.errors import ImageLoadError, UsageError

WRITE_BATCH = 256  # rows per store transaction on the driver


class _HasPath(Protocol):
    path: str


@dataclass(frozen=True)
class EmbeddedRow:
    """One embedded image as it comes back from a worker."""

    path: str
    width: int | None
    height: int | None
    embedding: np.ndarray

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "width": self.width, "height": self.height, "dim": int(self.embedding.shape[0])}


class EmbedActor:
    """A Ray actor: holds one model; each call reads, decodes and embeds one batch of paths."""

    def __init__(
        self, model_name: str, runtime: str, precision: str, onnx_cache: str | None = None, threads: int = 1
    ) -> None:
        import torch

        from clipaware.models.clip import ClipModel

        torch.set_num_threads(threads)  # one actor per CPU: intra-op threads would only fight each other
        # the driver's engine, passed explicitly: a worker process sees neither the CLI's --runtime nor,
        # on a remote cluster, the driver's environment, and vectors from two engines would be mixed
        self.model = ClipModel.load(model_name, runtime=runtime, precision=precision, onnx_cache=onnx_cache)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from clipaware.images import decode_image, read_file

        paths = [str(p) for p in batch["path"]]
        images: list[Any] = []
        widths, heights, errors = [], [], []
        for path in paths:
            try:
                decoded = decode_image(read_file(path), path, self.model.image_size)
            except ImageLoadError as exc:
                widths.append(-1)
                heights.append(-1)
                errors.append(exc.reason)
                continue
            images.append(decoded.image)
            widths.append(decoded.width if decoded.width is not None else -1)
            heights.append(decoded.height if decoded.height is not None else -1)
            errors.append("")
        vectors = np.zeros((len(paths), self.model.embedding_dim), np.float32)
        if images:
            ok = [i for i, e in enumerate(errors) if not e]
            vectors[ok] = self.model.embed_pil(images)
        return {
            "path": np.asarray(paths, dtype=object),
            "width": np.asarray(widths, np.int64),
            "height": np.asarray(heights, np.int64),
            "error": np.asarray(errors, dtype=object),
            "embedding": vectors,
        }


def embed_on_ray(
    pending: Sequence[_HasPath],
    model_name: str,
    *,
    runtime: str | None = None,
    precision: str | None = None,
    onnx_cache: str | None = None,
    address: str = "local",
    batch_size: int = 32,
    workers: int | None = None,
) -> Iterator[tuple[list[EmbeddedRow], list[tuple[str, str]]]]:
    """Yield (embedded rows, [(path, reason)] failures) batches as the Ray pipeline produces them."""
    try:
        import ray
    except ImportError as exc:
        raise UsageError("--ray needs Ray: pip install 'clipaware[ray]' (or 'ray[data]')") from exc

    from clipaware.models.runtime import resolve_choice

    engine = resolve_choice(runtime, precision)  # the library's engine, as the local path uses
    started = False
    if not ray.is_initialized():
        if address in ("", "local"):
            ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        started = True
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        pool = workers or max(1, int(ray.available_resources().get("CPU", 1)))
        dataset = ray.data.from_items([{"path": p.path} for p in pending]).map_batches(
            EmbedActor,
            fn_constructor_kwargs={
                "model_name": model_name,
                "runtime": engine.runtime,
                "precision": engine.precision,
                "onnx_cache": onnx_cache,
            },
            batch_size=batch_size,
            batch_format="numpy",
            concurrency=pool,
            num_cpus=1,
        )
        for batch in dataset.iter_batches(batch_size=WRITE_BATCH, batch_format="numpy"):
            rows: list[EmbeddedRow] = []
            failures: list[tuple[str, str]] = []
            for path, width, height, error, vector in zip(
                batch["path"], batch["width"], batch["height"], batch["error"], batch["embedding"], strict=True
            ):
                if error:
                    failures.append((str(path), str(error)))
                else:
                    w, h = (int(width) if width >= 0 else None), (int(height) if height >= 0 else None)
                    rows.append(EmbeddedRow(str(path), w, h, np.asarray(vector, np.float32)))
            yield rows, failures
    finally:
        if started:
            ray.shutdown()
