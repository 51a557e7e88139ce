"""The opened library: a store and its model, loaded once however many threads ask, created only when written."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from tests.conftest import ENGINE

from clipaware.errors import IndexUnavailableError, ModelMismatchError, UsageError
from clipaware.lazy import Lazy
from clipaware.library import Library, lazy_clip_model
from clipaware.models.clip import ClipModel
from clipaware.models.fixtures import save_tiny_model
from clipaware.tasks.indexing import index_paths


@pytest.fixture()
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names ClipModel.load was called with (the real load still runs)."""
    calls: list[str] = []
    real = ClipModel.load.__func__  # type: ignore[attr-defined]

    def load(cls, name=None, **kwargs):
        calls.append(str(name))
        return real(cls, name, **kwargs)

    monkeypatch.setattr(ClipModel, "load", classmethod(load))
    return calls


def test_a_new_library_writes_nothing_until_it_must(tmp_path: Path, tiny_clip_dir: Path, counted) -> None:
    db = tmp_path / "lib.db"
    with Library.open(db, model=str(tiny_clip_dir), create=True, **ENGINE) as library:
        assert library.opened is None and not library.model_loaded and not db.exists()
        assert library.location == str(db.resolve()) and library.model_name == str(tiny_clip_dir)
        empty = tmp_path / "empty"
        empty.mkdir()
        index_paths(library, [empty])  # nothing to embed: no model, no file
        assert not counted and not db.exists()
        assert library.store.model_name == str(tiny_clip_dir)  # created on first use, with the model's size
        assert db.is_file() and counted == [str(tiny_clip_dir)]
        assert library.store.dim == library.model.embedding_dim and counted == [str(tiny_clip_dir)]


def test_the_model_loads_once_however_many_threads_ask(
    photo_folder: Path, tmp_path: Path, tiny_clip_dir: Path, counted
) -> None:
    db = tmp_path / "lib.db"
    with Library.open(db, model=str(tiny_clip_dir), create=True, **ENGINE) as library:
        index_paths(library, [photo_folder])
    counted.clear()
    with Library.open(db, **ENGINE) as library:
        assert library.model_name == str(tiny_clip_dir)  # the index's own model, not a default
        seen: list[ClipModel] = []
        barrier = threading.Barrier(4)

        def ask() -> None:
            barrier.wait()
            seen.append(library.model)

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(seen) == 4 and all(m is seen[0] for m in seen) and counted == [str(tiny_clip_dir)]
        kit = library.toolkit("detr")
        assert library.toolkit("detr") is kit and library.toolkit("owlv2") is not kit  # one per choice
        assert kit.clip is library.model and counted == [str(tiny_clip_dir)]  # the toolkit shares it
        detr = str(save_tiny_model(tmp_path / "detr", "detr", image_size=64))
        one, other = library.toolkit(detr), library.toolkit(detr, gallery=tmp_path)
        assert one is not other and one.detector(["cup"]) is other.detector(["dog"])  # one shelf: DETR once


def test_opening_refuses_what_cannot_work(photo_folder: Path, tmp_path: Path, tiny_clip_dir, tiny_siglip_dir) -> None:
    db = tmp_path / "lib.db"
    with Library.open(db, model=str(tiny_clip_dir), create=True, **ENGINE) as library:
        index_paths(library, [photo_folder])
    with pytest.raises(ModelMismatchError, match="was built with model"):
        Library.open(db, model=str(tiny_siglip_dir))
    with pytest.raises(IndexUnavailableError, match="no index at"):
        Library.open(tmp_path / "missing.db")
    with pytest.raises(UsageError, match="unknown runtime"):
        Library.open(db, runtime="tensorflow")
    with pytest.raises(UsageError, match="no bf16 kernels"):
        lazy_clip_model(str(tiny_clip_dir), runtime="onnx", precision="bf16")


def test_a_failed_load_is_remembered_not_retried() -> None:
    calls: list[int] = []

    def build() -> int:
        calls.append(1)
        raise OSError("disk on fire")

    lazy: Lazy[int] = Lazy(build)
    for _ in range(3):
        with pytest.raises(OSError, match="disk on fire"):
            lazy.get()
    assert calls == [1] and not lazy.loaded
    assert Lazy.of(7).get() == 7 and Lazy.of(7).loaded
