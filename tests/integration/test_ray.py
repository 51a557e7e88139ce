"""`index --ray`: decoding and embedding as a Ray Data pipeline on a local Ray gives the same index as
the single-process path (same rows, same vectors, same skipped files)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.helpers import index_folder as index_paths

from clipaware.index.sqlite import ImageIndex

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'clipaware[ray]')")


def test_ray_pipeline_equals_single_process(tiny_clip_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(300):
        size = (16 + i % 17, 12 + i % 23)
        Image.fromarray(rng.integers(0, 255, (*size, 3), dtype=np.uint8)).save(
            folder / ("sub" if i % 3 else "") / f"{i:03d}.{'png' if i % 2 else 'jpg'}"
        )
    (folder / "broken.jpg").write_bytes(b"not a jpeg")

    local = index_paths([folder], db=tmp_path / "local.db", model=str(tiny_clip_dir), batch_size=16)
    src = str(Path(__file__).resolve().parents[2] / "src")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}},
    )
    try:
        distributed = index_paths(
            [folder], db=tmp_path / "ray.db", model=str(tiny_clip_dir), batch_size=16, ray="local"
        )
    finally:
        ray.shutdown()

    assert distributed.added == local.added == 300 and distributed.skipped == local.skipped
    assert [s.path for s in distributed.skipped] == [str(folder / "broken.jpg")]
    with ImageIndex.open(tmp_path / "local.db") as a, ImageIndex.open(tmp_path / "ray.db") as b:
        rows_a = {r[0]: r[1:] for r in a.conn.execute("SELECT path, size, sha256, width, height FROM images")}
        rows_b = {r[0]: r[1:] for r in b.conn.execute("SELECT path, size, sha256, width, height FROM images")}
        assert rows_a == rows_b and len(rows_a) == 300
        for path in rows_a:
            np.testing.assert_allclose(a.embedding_for_path(path), b.embedding_for_path(path), atol=2e-3)
