"""One store test-suite, run against every implementation: SQLite and Milvus Lite (started for real)."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest

from clipaware.errors import IndexUnavailableError, ModelMismatchError
from clipaware.index.filters import Filters
from clipaware.index.store import IndexedFile, NewEmbedding, StoreSpec, VectorStore
from clipaware.index.stores import create_store, open_store

DIM = 16


def milvus_lite_problem() -> str | None:
    """Why Milvus Lite cannot run here (None when it can)."""
    try:
        import milvus_lite  # noqa: F401
        import pymilvus  # noqa: F401
    except ImportError as exc:
        return f"Milvus Lite not installed: {exc}"
    return None


@pytest.fixture(scope="session")
def milvus_lite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    problem = milvus_lite_problem()
    if problem:
        pytest.skip(problem)
    return tmp_path_factory.mktemp("milvus") / "lite.db"


@pytest.fixture(params=["sqlite", "milvus-lite"])
def spec(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    lite = request.getfixturevalue("milvus_lite_file")
    return f"milvus-lite:{lite}#t_{uuid.uuid4().hex[:12]}"  # one collection per test, one Lite server


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


PATHS = [
    "/lib/2024/beach_day/a.jpg",
    "/lib/2024/beach_day/b.png",
    "/lib/2023/city/c.jpg",
    "/lib/2023/cityscape/d.jpg",
    "/lib/other/e.jpg",
    "/lib/other/f.png",
]
TAKEN = ["2024-06-01T10:00:00", None, "2023-01-15T08:00:00", "2023-12-31T23:00:00", None, "2022-02-02T02:02:02"]
WIDTHS = [4000, 640, None, 1920, 800, 300]


@pytest.fixture()
def filled(spec: str) -> tuple[VectorStore, np.ndarray]:
    vectors = unit(np.random.default_rng(0), len(PATHS))
    store = create_store(spec, "tiny-model", DIM)
    store.upsert(
        NewEmbedding(
            p, 100 + i, (1_600_000_000 + i * 10_000_000) * 10**9, f"{i:064x}", w, None if w is None else w // 2, v, t
        )
        for i, (p, v, t, w) in enumerate(zip(PATHS, vectors, TAKEN, WIDTHS, strict=True))
    )
    yield store, vectors
    store.close()


def test_rows_round_trip(filled: tuple[VectorStore, np.ndarray]) -> None:
    store, vectors = filled
    assert len(store) == 6 and store.model_name == "tiny-model" and store.dim == DIM
    files = store.files()
    assert files[PATHS[2]] == IndexedFile(PATHS[2], 102, 1_620_000_000 * 10**9, f"{2:064x}")
    assert store.file_facts(PATHS[2]) == files[PATHS[2]] and store.file_facts("/nope.jpg") is None
    np.testing.assert_allclose(store.embedding_for_path(PATHS[3]), vectors[3], atol=2e-3)
    assert store.embedding_for_path("/nope.jpg") is None
    same = store.same_content(f"{4:064x}")
    assert same is not None and same[1:] == (800, 400)
    np.testing.assert_allclose(same[0], vectors[4], atol=2e-3)
    assert store.same_content("f" * 64) is None
    paths, matrix = store.matrix()
    assert sorted(paths) == sorted(PATHS) and matrix.shape == (6, DIM)


def test_upsert_replaces_touch_keeps_vector_remove_counts(filled: tuple[VectorStore, np.ndarray]) -> None:
    store, vectors = filled
    store.upsert([NewEmbedding(PATHS[0], 1, 2, "e" * 64, 10, 10, vectors[5])])
    assert len(store) == 6
    np.testing.assert_allclose(store.embedding_for_path(PATHS[0]), vectors[5], atol=2e-3)
    store.touch(PATHS[1], 999, 123)
    assert store.file_facts(PATHS[1]) == IndexedFile(PATHS[1], 999, 123, f"{1:064x}")
    np.testing.assert_allclose(store.embedding_for_path(PATHS[1]), vectors[1], atol=2e-3)
    assert store.remove([PATHS[2], "/not/there.jpg"]) == 1
    assert len(store) == 5 and PATHS[2] not in store.files()


def test_skips_are_remembered_and_forgotten(filled: tuple[VectorStore, np.ndarray]) -> None:
    store, _ = filled
    store.record_skips([("/lib/bad.jpg", 5, 6, "truncated: x"), ("/lib/worse.png", 1, 2, "empty file")])
    store.record_skips([("/lib/bad.jpg", 7, 8, "corrupt: y")])
    assert store.skipped_files() == {"/lib/bad.jpg": (7, 8, "corrupt: y"), "/lib/worse.png": (1, 2, "empty file")}
    store.forget_skips(["/lib/bad.jpg"])
    assert set(store.skipped_files()) == {"/lib/worse.png"}


@pytest.mark.parametrize("exact", [None, True])
def test_search_ranks_by_cosine(filled: tuple[VectorStore, np.ndarray], exact: bool | None) -> None:
    store, vectors = filled
    q = unit(np.random.default_rng(1), 1)[0]
    order = [PATHS[i] for i in np.argsort(-(vectors @ q))]
    hits = store.search(q, 4, exact=exact)
    assert [p for p, _ in hits] == order[:4]
    assert hits[0][1] == pytest.approx(float(np.max(vectors @ q)), abs=2e-3)
    assert store.search(vectors[3], 1, exact=exact)[0][0] == PATHS[3]


FILTERS = [
    Filters(path_glob="*.png"),
    Filters(folder="/lib/2023/city"),
    Filters(folder="/lib/2024/beach_day"),
    Filters(taken_after="2023-06-01T00:00:00"),
    Filters(taken_before="2023-12-31T23:59:59"),
    Filters(min_width=700),
    Filters(max_width=1000),
    Filters(modified_after="2020-10-01T00:00:00"),
    Filters(path_glob="/lib/*/c*", min_width=1),
]


@pytest.mark.parametrize("exact", [None, True])
def test_filters_agree_with_their_python_meaning(filled: tuple[VectorStore, np.ndarray], exact: bool | None) -> None:
    store, vectors = filled
    q = unit(np.random.default_rng(2), 1)[0]
    facts = store.files()
    for filters in FILTERS:
        expected = [
            PATHS[i]
            for i in np.argsort(-(vectors @ q))
            if filters.matches(
                PATHS[i],
                mtime_ns=facts[PATHS[i]].mtime_ns,
                width=WIDTHS[i],
                height=None if WIDTHS[i] is None else WIDTHS[i] // 2,
                taken_at=TAKEN[i],
            )
        ]
        assert expected, f"{filters} must select something"
        assert [p for p, _ in store.search(q, 10, filters, exact=exact)] == expected, filters


def test_model_is_enforced_and_missing_store_is_an_error(spec: str, filled: tuple[VectorStore, np.ndarray]) -> None:
    with pytest.raises(ModelMismatchError, match="tiny-model"):
        create_store(spec, "another-model", DIM)
    with open_store(spec) as again:
        assert again.model_name == "tiny-model" and len(again) == 6
        again.require_model("tiny-model")
        with pytest.raises(ModelMismatchError):
            again.require_model("another-model")
    missing = spec.replace("store.db", "missing.db") if StoreSpec.parse(spec).is_sqlite else spec + "_missing"
    with pytest.raises(IndexUnavailableError):
        open_store(missing)


def test_store_names_parse() -> None:
    assert StoreSpec.parse("milvus://db.example:19530") == StoreSpec("milvus", "http://db.example:19530", "clipaware")
    assert StoreSpec.parse("milvus://h:1/photos").collection == "photos"
    lite = StoreSpec.parse("milvus-lite:/tmp/x.db#c1")
    assert (lite.kind, lite.target, lite.collection) == ("milvus-lite", "/tmp/x.db", "c1")
    assert StoreSpec.parse("sqlite:/tmp/a.db") == StoreSpec("sqlite", "/tmp/a.db")
    assert StoreSpec.parse("/tmp/a.db").is_sqlite
