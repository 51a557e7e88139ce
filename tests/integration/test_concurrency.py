"""Searches run while an index job writes (WAL): no 'database is locked', and each search sees a
consistent, growing prefix of the work."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.helpers import index_folder as index_paths

from clipaware.index.sqlite import ImageIndex


def test_search_while_indexing(tiny_clip_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLIPAWARE_ANN_THRESHOLD", "8")  # the ANN file is also built and extended meanwhile (as the
    # CLI's option reads it: tests.helpers.index_folder; the searches below pass it explicitly)
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(40):
        Image.fromarray(rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)).save(folder / f"{i:02d}.png")
    db = tmp_path / "index.db"
    errors: list[BaseException] = []

    def write() -> None:
        try:
            index_paths([folder], db=db, model=str(tiny_clip_dir), batch_size=2)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    seen: list[int] = []
    while writer.is_alive() or not seen:
        if ImageIndex.is_blank(db):
            continue
        with ImageIndex.open(db, ann_threshold=8) as index:
            hits = index.search(np.full(index.dim, index.dim**-0.5, np.float32), 50)
            seen.append(len(hits))
            assert len({p for p, _ in hits}) == len(hits)
    writer.join()
    assert not errors, errors
    assert seen == sorted(seen), "a later search saw fewer rows than an earlier one"
    assert any(0 < n < 40 for n in seen), f"no search ran while the job was writing: {seen}"
    with ImageIndex.open(db) as index:
        assert len(index) == 40 and len(index.search(np.full(index.dim, index.dim**-0.5, np.float32), 50)) == 40
