"""An opened library: one vector store and the CLIP model its vectors came from, held together.

Built once at the door (a CLI command, a service for hours) and handed down to the tasks, as rclip's
``main()`` builds its model and database once and llm's ``Collection`` records its ``model_id`` and
memoises its model. Tasks never load a model by name: they ask the library, which loads the index's own
model on first need, once, whichever thread asks first (see :class:`clipaware.lazy.Lazy`).

A library opened with ``create=True`` (for indexing) may not have a store yet: the store is created on
first write, when the model is loaded and its embedding size known, so that a run which finds nothing to
write leaves nothing behind.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clipaware.index.sqlite import ImageIndex, find_default_db
from clipaware.index.store import StoreSpec, VectorStore
from clipaware.index.stores import create_store, open_store, store_exists
from clipaware.lazy import Lazy, Shelf
from clipaware.models.hub import canonical_model_name
from clipaware.models.registry import resolve_model_name
from clipaware.models.runtime import resolve_choice

if TYPE_CHECKING:
    from clipaware.models.clip import ClipModel
    from clipaware.tasks.ask import Toolkit


class Library:
    """An opened store (``.store``) and its model (``.model``, loaded lazily, once, thread-safe).

    Use :meth:`open`; close with :meth:`close` or a ``with`` block.
    """

    def __init__(
        self,
        spec: StoreSpec,
        store: VectorStore | None,
        model_name: str,
        *,
        runtime: str | None = None,
        precision: str | None = None,
        device: str | None = None,
        onnx_cache: str | Path | None = None,
        ann_threshold: int | None = None,
        ort_spin: bool = False,
        location: str | None = None,
    ) -> None:
        self.spec = spec
        self.model_name = model_name
        self.runtime = runtime
        self.precision = precision
        self.device = device
        self.onnx_cache = onnx_cache
        self.ann_threshold = ann_threshold
        self.ort_spin = ort_spin
        self._store = store
        self._location = location
        self._store_lock = threading.Lock()
        self._model: Lazy[ClipModel] = Lazy(self._load_model)
        self._shelf = Shelf()  # detectors and feature models, shared by every toolkit of this library
        self._toolkits: dict[tuple[Any, ...], Toolkit] = {}
        self._toolkits_lock = threading.Lock()

    @classmethod
    def open(
        cls,
        location: str | Path | StoreSpec | None = None,
        *,
        model: str | None = None,
        runtime: str | None = None,
        precision: str | None = None,
        device: str | None = None,
        onnx_cache: str | Path | None = None,
        ann_threshold: int | None = None,
        ort_spin: bool = False,
        create: bool = False,
    ) -> Library:
        """Open the store at ``location`` (a db file or store name, as ``--db`` / ``--store`` take).

        Without a location: the nearest ``.clipaware.db`` (the ``--db`` rules). ``model`` is an explicitly
        requested model: an existing index built with another one is refused (vectors from two models are
        not comparable); for a store that ``create=True`` will make, it names the model to build it with
        (default: the registry's). ``runtime`` / ``precision`` / ``device`` / ``onnx_cache`` / ``ort_spin`` are how the
        model will run (see :meth:`ClipModel.load`); bad values fail here, before any work.
        ``ann_threshold``: rows from which an SQLite index searches through its ANN (default 50,000).
        """
        resolve_choice(runtime, precision)  # validates now; the load resolves again with the same inputs
        if location is None:
            found = find_default_db()
            if found is None:
                ImageIndex.open(None)  # raises the "no index found" error that says what to do
            location = found
        spec = location if isinstance(location, StoreSpec) else StoreSpec.parse(location)
        given = None if isinstance(location, StoreSpec) else str(location)
        options = {"runtime": runtime, "precision": precision, "device": device, "onnx_cache": onnx_cache}
        options.update(location=given, ann_threshold=ann_threshold, ort_spin=ort_spin)
        blank = spec.is_sqlite and ImageIndex.is_blank(spec.target)  # absent, or a first run killed mid-creation
        if create and (blank or not store_exists(spec)):
            return cls(spec, None, canonical_model_name(resolve_model_name(model)), **options)
        store = open_store(spec, ann_threshold=ann_threshold)
        try:
            if model:
                store.require_model(canonical_model_name(model))
        except BaseException:
            store.close()
            raise
        return cls(spec, store, store.model_name, **options)

    # ------------------------------------------------------------------ the model
    def _load_model(self) -> ClipModel:
        from clipaware.models.clip import ClipModel

        return ClipModel.load(
            self.model_name,
            runtime=self.runtime,
            precision=self.precision,
            device=self.device,
            onnx_cache=self.onnx_cache,
            ort_spin=self.ort_spin,
        )

    @property
    def model(self) -> ClipModel:
        """The index's model, loaded on first use and then reused (thread-safe)."""
        return self._model.get()

    @property
    def model_loaded(self) -> bool:
        return self._model.loaded

    def toolkit(self, detector: Any = "auto", gallery: str | Path | None = None, feature_model: str | None = None):
        """ask's models for this library: its CLIP, plus detectors / image features loaded on first need.

        The same arguments give the same toolkit, and all of them share one shelf of detectors and feature
        models, so a long-lived holder loads each model once.
        """
        from clipaware.tasks.ask import Toolkit

        key = (detector if isinstance(detector, str) else id(detector), str(gallery), feature_model)
        with self._toolkits_lock:
            kit = self._toolkits.get(key)
            if kit is None:
                from clipaware.models.faces import load_face_model
                from clipaware.routes.people import PeopleContext

                people = PeopleContext.of_store(lambda: self.store, load_face_model)  # issue 19: named people
                kit = Toolkit(
                    self._model,
                    detector=detector,
                    gallery=gallery,
                    feature_model=feature_model,
                    people=people,
                    shelf=self._shelf,
                )
                self._toolkits[key] = kit
            return kit

    # ------------------------------------------------------------------ the store
    @property
    def store(self) -> VectorStore:
        """The opened store; for a library opened with ``create=True``, created here on first use."""
        with self._store_lock:
            if self._store is None:
                dim = self.model.embedding_dim
                self._store = create_store(self.spec, self.model_name, dim, ann_threshold=self.ann_threshold)
            return self._store

    @property
    def opened(self) -> VectorStore | None:
        """The store if it exists yet (never creates it)."""
        return self._store

    @property
    def location(self) -> str:
        """How to name the store to a person: its path or URI."""
        if self._store is not None:
            return self._store.location
        if self.spec.is_sqlite:
            return self.spec.target
        return self._location or f"{self.spec.kind}:{self.spec.target}"

    def reopen(self) -> Library:
        """Another handle on the same store with its own connection, sharing this library's model and toolkits.

        An SQLite connection belongs to the thread that opened it, so a long-lived holder (``clipaware
        serve``) gives each thread that touches the store its own handle, opened on that thread, while the
        model (and each detector) stays loaded once. Close the handle when its thread is done with it.
        """
        exists = self._store is not None or self.spec.exists()
        store = open_store(self.spec, ann_threshold=self.ann_threshold) if exists else None
        twin = Library(self.spec, store, self.model_name, runtime=self.runtime, precision=self.precision,
                       device=self.device, onnx_cache=self.onnx_cache, ann_threshold=self.ann_threshold,
                       ort_spin=self.ort_spin, location=self._location)  # fmt: skip
        twin._model, twin._shelf = self._model, self._shelf
        twin._toolkits, twin._toolkits_lock = self._toolkits, self._toolkits_lock
        return twin

    def close(self) -> None:
        with self._store_lock:
            if self._store is not None:
                self._store.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Library({self.location!r}, model={self.model_name!r})"


def open_library(location: str | Path | None = None, **options: Any) -> Library:
    """:meth:`Library.open` as a function (the public face's spelling)."""
    return Library.open(location, **options)


def lazy_clip_model(
    name: str | None = None,
    *,
    runtime: str | None = None,
    precision: str | None = None,
    device: str | None = None,
    onnx_cache: str | Path | None = None,
    ort_spin: bool = False,
) -> Lazy[ClipModel]:
    """A CLIP model resolved now and loaded on first use, once: for commands that may not need it at all.

    ``ask "how many dogs?"`` needs only a detector; its toolkit holds this and loads CLIP only if a route
    asks for it. Bad runtime / precision values fail here, before any work.
    """
    resolve_choice(runtime, precision)

    def load() -> ClipModel:
        from clipaware.models.clip import ClipModel

        return ClipModel.load(
            name, runtime=runtime, precision=precision, device=device, onnx_cache=onnx_cache, ort_spin=ort_spin
        )

    return Lazy(load)
