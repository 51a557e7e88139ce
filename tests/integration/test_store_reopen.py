"""Every store survives three processes in a row: index in one, search in another, re-index in a third.

The store suite (test_store_suite.py) opens and reopens stores inside one process, where a server keeps
what it loaded; a user runs ``clipaware index`` and then ``clipaware search`` as separate processes. Milvus
Lite 3.x hands a reopened collection back *released*, which only a second process sees.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from skimage import data


def _cli(args: list[str], model: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLIPAWARE_MODEL": str(model), "HF_HUB_OFFLINE": "1", "HOME": str(home)}
    env.pop("CLIPAWARE_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "clipaware.cli", *args], capture_output=True, text=True, env=env, timeout=300
    )


def _store(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return str(tmp_path / "index.db")
    pytest.importorskip("milvus_lite", reason="Milvus Lite not installed (the milvus extra)")
    return f"milvus-lite:{tmp_path / 'lite.db'}"


STEPS = {
    "index": """
import numpy as np
from clipaware.index.store import NewEmbedding
from clipaware.index.stores import create_store
with create_store(SPEC, "m", 4) as store:
    eye = np.eye(4, dtype=np.float32)
    store.upsert([NewEmbedding(f"/p/{i}.jpg", i, i, f"{i:064x}", 1, 1, eye[i]) for i in range(3)])
    store.record_skips([("/p/bad.jpg", 1, 1, "corrupt: x")])
""",
    "search": """
import numpy as np
from clipaware.index.stores import open_store
with open_store(SPEC) as store:
    hits = store.search(np.eye(4, dtype=np.float32)[1], 1)
    assert [p for p, _ in hits] == ["/p/1.jpg"] and abs(hits[0][1] - 1.0) < 1e-3, hits
    assert sorted(store.files()) == ["/p/0.jpg", "/p/1.jpg", "/p/2.jpg"]
    assert list(store.skipped_files()) == ["/p/bad.jpg"]
""",
    "reindex": """
import numpy as np
from clipaware.index.store import NewEmbedding
from clipaware.index.stores import create_store
with create_store(SPEC, "m", 4) as store:
    store.upsert([NewEmbedding("/p/3.jpg", 3, 3, "3" * 64, 1, 1, np.eye(4, dtype=np.float32)[3])])
    assert store.remove(["/p/0.jpg"]) == 1 and len(store) == 3
    store.forget_skips(["/p/bad.jpg"])
    assert store.skipped_files() == {}
""",
}


@pytest.mark.parametrize("kind", ["sqlite", "milvus-lite"])
def test_store_reopens_in_three_processes(kind: str, tmp_path: Path) -> None:
    """The store protocol alone (no model, no torch import): fast enough to run on every CI pass."""
    spec = _store(kind, tmp_path)
    for step, code in STEPS.items():
        done = subprocess.run(
            [sys.executable, "-c", f"SPEC = {spec!r}\n{code}"], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"{step}: {done.stderr[-2000:]}"
        assert "WARNING" not in done.stderr, done.stderr  # pymilvus' iterator notice on Lite is not for users


@pytest.mark.slow  # six CLI processes, each loading torch: the same as above, through the commands users type
@pytest.mark.parametrize("kind", ["sqlite", "milvus-lite"])
def test_index_search_reindex_in_three_processes(kind: str, tiny_clip_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(data.astronaut()).save(folder / "astronaut.jpg")
    Image.fromarray(data.chelsea()).save(folder / "chelsea.png")
    store = _store(kind, tmp_path)

    first = _cli(["index", str(folder), "--store", store, "--json"], tiny_clip_dir, tmp_path)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["added"] == 2

    found = _cli(["search", "an astronaut", "--store", store, "--json", "-k", "5"], tiny_clip_dir, tmp_path)
    assert found.returncode == 0, found.stderr
    assert "Traceback" not in found.stderr
    hits = json.loads(found.stdout)
    hits = hits["hits"] if isinstance(hits, dict) else hits
    assert sorted(Path(h["path"]).name for h in hits) == ["astronaut.jpg", "chelsea.png"]

    Image.fromarray(data.coffee()).save(folder / "coffee.jpg")
    (folder / "chelsea.png").unlink()
    again = _cli(["index", str(folder), "--store", store, "--json"], tiny_clip_dir, tmp_path)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert (report["added"], report["removed"], report["unchanged"]) == (1, 1, 1)
