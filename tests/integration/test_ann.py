"""The ANN file derived from the SQLite index: agrees with exact search, is saved with the database's
generation, extended or rebuilt when stale, and never trusted when missing, corrupt or foreign."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from clipaware.index.ann import AnnIndex
from clipaware.index.filters import Filters
from clipaware.index.sqlite import MIGRATIONS, SCHEMA_VERSION, ImageIndex
from clipaware.index.store import NewEmbedding

DIM = 32


def clustered(rng: np.random.Generator, n: int, clusters: int = 40) -> np.ndarray:
    centers = rng.standard_normal((clusters, DIM)).astype(np.float32)
    points = centers[rng.integers(0, clusters, n)] + 0.5 * rng.standard_normal((n, DIM)).astype(np.float32)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def rows(vectors: np.ndarray, start: int = 0) -> list[NewEmbedding]:
    return [
        NewEmbedding(f"/lib/f{i % 10}/{i}.jpg", 100, i, f"{i:064x}", 100 + i % 50, 100, v)
        for i, v in enumerate(vectors, start)
    ]


@pytest.fixture()
def big_index(tmp_path: Path) -> tuple[ImageIndex, np.ndarray]:
    vectors = clustered(np.random.default_rng(0), 2000)
    index = ImageIndex.create_or_open(tmp_path / "big.db", "synthetic", DIM, ann_threshold=500)  # 2,000 is large
    index.upsert(rows(vectors))
    yield index, vectors
    index.close()


def exact(index: ImageIndex, q: np.ndarray, k: int = 10, filters: Filters | None = None) -> list[str]:
    return [p for p, _ in index.search(q, k, filters, exact=True)]


def test_ann_search_agrees_with_exact_and_scores_are_exact(big_index: tuple[ImageIndex, np.ndarray]) -> None:
    index, vectors = big_index
    queries = clustered(np.random.default_rng(1), 30)
    recalls = []
    for q in queries:
        hits = index.search(q, 10)
        truth = exact(index, q)
        recalls.append(len({p for p, _ in hits} & set(truth)) / 10)
        for path, score in hits:  # re-scored from the stored float16 vectors: the exact cosine
            i = int(path.rsplit("/", 1)[1].split(".")[0])
            assert score == pytest.approx(float(vectors[i] @ q), abs=2e-3)
    assert np.mean(recalls) >= 0.95
    assert index._ann is not None and index._ann.kind == "hnsw"


def test_ann_file_carries_the_generation_and_is_reused(big_index: tuple[ImageIndex, np.ndarray]) -> None:
    index, _ = big_index
    _, info = index.ann()
    assert info.action == "built" and info.generation == index.generation and index.ann_path.is_file()
    with ImageIndex.open(index.path, ann_threshold=index.ann_threshold) as again:
        _, info2 = again.ann()
    assert info2.action == "loaded" and info2.entries == 2000


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda b: b[: len(b) // 2], "checksum"),
        (lambda b: b[:-100] + bytes(100), "checksum"),
        (lambda b: b"junk" * 10, "magic"),
        (lambda b: b[:20], "header"),
        (lambda b: b"", "magic"),
    ],
)
def test_corrupt_ann_file_is_rebuilt_never_trusted(big_index: tuple[ImageIndex, np.ndarray], damage, reason) -> None:
    index, vectors = big_index
    index.ann()
    index.ann_path.write_bytes(damage(index.ann_path.read_bytes()))
    with ImageIndex.open(index.path, ann_threshold=index.ann_threshold) as again:
        ann, info = again.ann()
        assert info.action == "rebuilt" and reason in info.reason
        assert ann.entries == 2000
        assert again.search(vectors[7], 1)[0][0] == "/lib/f7/7.jpg"
    assert AnnIndex.load(index.ann_path, {"uuid": index.uuid, "model": "synthetic"}, DIM)[0] is not None


def test_ann_file_of_another_database_is_not_used(big_index: tuple[ImageIndex, np.ndarray], tmp_path: Path) -> None:
    index, _ = big_index
    index.ann()
    other = ImageIndex.create_or_open(tmp_path / "other.db", "synthetic", DIM, ann_threshold=500)
    other.upsert(rows(clustered(np.random.default_rng(5), 600)))
    other.ann_path.write_bytes(index.ann_path.read_bytes())
    _, info = other.ann()
    assert info.action == "rebuilt" and "another database" in info.reason and info.entries == 600
    other.close()


def test_stale_ann_is_extended_with_new_rows(big_index: tuple[ImageIndex, np.ndarray]) -> None:
    index, _ = big_index
    index.ann()
    fresh = clustered(np.random.default_rng(9), 50)
    index.upsert(rows(fresh, start=5000))
    with ImageIndex.open(index.path, ann_threshold=index.ann_threshold) as again:
        assert again.search(fresh[3], 1)[0][0] == "/lib/f3/5003.jpg"
        ann, info = again.ann()
        assert info.action == "loaded" and ann.entries == 2050 and ann.generation == again.generation
    # the extension was saved: a third process loads it as is
    with ImageIndex.open(index.path, ann_threshold=index.ann_threshold) as third:
        assert third.ann()[1].action == "loaded"


def test_removed_rows_are_never_returned_and_many_removals_rebuild(big_index: tuple[ImageIndex, np.ndarray]) -> None:
    index, vectors = big_index
    index.ann()
    index.remove(["/lib/f1/11.jpg"])
    hits = index.search(vectors[11], 5)
    assert "/lib/f1/11.jpg" not in {p for p, _ in hits} and len(hits) == 5
    assert index.ann()[1].action == "loaded"  # extended in the search above (1 stale entry)
    index.remove([f"/lib/f{i % 10}/{i}.jpg" for i in range(0, 2000, 2)])  # half the rows
    ann, info = index.ann()
    assert info.action == "rebuilt" and "stale" in info.reason and ann.entries == 999


def test_updated_vector_is_found_at_its_new_place(big_index: tuple[ImageIndex, np.ndarray]) -> None:
    index, vectors = big_index
    index.ann()
    index.upsert([NewEmbedding("/lib/f4/4.jpg", 1, 1, "x" * 64, 1, 1, vectors[1500])])
    top = index.search(vectors[1500], 2)
    assert {p for p, _ in top} == {"/lib/f4/4.jpg", "/lib/f0/1500.jpg"}
    assert all(s == pytest.approx(1.0, abs=2e-3) for _, s in top)


def test_filtered_ann_keeps_recall(big_index: tuple[ImageIndex, np.ndarray], monkeypatch: pytest.MonkeyPatch) -> None:
    index, _ = big_index
    index.ann_threshold = 100  # 200 passing rows still go through the ANN
    filters = Filters(folder="/lib/f3")
    recalls = []
    for q in clustered(np.random.default_rng(2), 20):
        hits = index.search(q, 10, filters)
        assert all(p.startswith("/lib/f3/") for p, _ in hits) and len(hits) == 10
        recalls.append(len({p for p, _ in hits} & set(exact(index, q, 10, filters))) / 10)
    assert np.mean(recalls) >= 0.95


def test_ivfpq_kind_finds_neighbours(big_index: tuple[ImageIndex, np.ndarray]) -> None:
    index, vectors = big_index
    ann = AnnIndex.build(
        dim=DIM,
        count=len(index),
        chunks=lambda: ((i, v) for i, _, v in index.chunks()),
        sample=index.sample,
        generation=index.generation,
        source={"uuid": index.uuid, "model": "synthetic"},
        kind="ivfpq",
    )
    ids = {r[1]: r[0] for r in index.conn.execute("SELECT id, path FROM images")}
    found = [ids["/lib/f5/25.jpg"] in set(ann.search(vectors[25], 20).tolist())]
    queries = clustered(np.random.default_rng(3), 20)
    for q in queries:
        truth = {ids[p] for p in exact(index, q)}
        found.append(len(truth & set(ann.search(q, 100).tolist())) >= 9)
    assert np.mean(found) >= 0.9


def test_held_vectors_answer_like_the_streaming_scan(big_index: tuple[ImageIndex, np.ndarray]) -> None:
    index, _ = big_index
    q = clustered(np.random.default_rng(4), 1)[0]
    streamed = exact(index, q, 10, Filters(min_width=120))
    index.hold_vectors()
    held = exact(index, q, 10, Filters(min_width=120))
    assert held == streamed and len(held) == 10


def test_migration_v2_to_v3_converts_float32_blobs_to_float16(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    for number in range(2):  # the released v1 and v2 schemas, as an older clipaware wrote them
        conn.executescript(MIGRATIONS[number])
    conn.execute("PRAGMA user_version = 2")
    conn.execute("INSERT INTO meta VALUES ('model', 'synthetic'), ('dim', ?)", (str(DIM),))
    old = clustered(np.random.default_rng(6), 20)
    conn.executemany(
        "INSERT INTO images (path, size, mtime_ns, sha256, width, height, embedding, indexed_at)"
        " VALUES (?,?,?,?,?,?,?,?)",
        [(f"/o/{i}.jpg", 1, 1, f"{i}", 10, 10, v.astype(np.float32).tobytes(), 0.0) for i, v in enumerate(old)],
    )
    conn.commit()
    conn.close()
    with ImageIndex.open(db) as index:
        assert index.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert index.meta("vector_dtype") == "float16" and index.generation == 0 and index.uuid
        blob_sizes = {r[0] for r in index.conn.execute("SELECT length(embedding) FROM images")}
        assert blob_sizes == {DIM * 2}
        paths, matrix = index.matrix()
        assert paths[4] == "/o/4.jpg"
        np.testing.assert_allclose(matrix, old, atol=2e-3)
        assert index.search(old[4], 1)[0][0] == "/o/4.jpg"
        assert index.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
