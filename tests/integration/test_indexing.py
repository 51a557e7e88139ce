"""Incremental indexing, skip reports, model enforcement and search on a real folder with a tiny model."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data
from tests.conftest import BAD_FILES, ENGINE
from tests.helpers import index_folder as index_paths

import clipaware.tasks.indexing as indexing
from clipaware.errors import IndexUnavailableError, ModelMismatchError, UsageError
from clipaware.index.sqlite import DEFAULT_DB_NAME, SCHEMA_VERSION, ImageIndex
from clipaware.library import Library
from clipaware.models.clip import ClipModel
from clipaware.tasks.search import search, similar

GOOD = {"astronaut.jpg", "coffee.jpg", "sub/chelsea.png", "sub/camera.png"}


@pytest.fixture()
def model_env(tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLIPAWARE_MODEL", str(tiny_clip_dir))
    return tiny_clip_dir


def _rel(paths, root: Path) -> set[str]:
    return {str(Path(p).relative_to(root)) for p in paths}


@pytest.fixture()
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every ``decode_image`` call the index makes: (file name, name of the thread that made it)."""
    real = indexing.decode_image

    def counting(data: bytes, source: str = "<bytes>", target_size: int | None = None):
        calls.append((Path(source).name, threading.current_thread().name))
        return real(data, source, target_size)

    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(indexing, "decode_image", counting)
    return calls


def _no_model_load(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_load(*a, **k):
        raise AssertionError("nothing had to be embedded, yet the model was loaded")

    monkeypatch.setattr(ClipModel, "load", no_load)


def _corrupt_png() -> bytes:
    """A PNG whose header is fine and whose compressed pixel data is scrambled."""
    buf = io.BytesIO()
    Image.fromarray(data.chelsea()).save(buf, "PNG")
    raw = bytearray(buf.getvalue())
    start = raw.index(b"IDAT") + 200
    raw[start : start + 64] = bytes(b ^ 0x5A for b in raw[start : start + 64])
    return bytes(raw)


def test_first_index_adds_good_files_and_reports_each_bad_one(photo_folder: Path, model_env: Path) -> None:
    report = index_paths([photo_folder])
    assert report.db == str(photo_folder / DEFAULT_DB_NAME)
    assert (report.added, report.updated, report.removed) == (4, 0, 0)
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(reasons) == set(BAD_FILES)  # the .txt and the hidden folder are not candidates
    for name, expected in BAD_FILES.items():
        assert expected in reasons[name]
    with ImageIndex.open(report.db) as index:
        assert _rel(index.files(), photo_folder) == GOOD
        assert index.model_name == str(model_env)


def test_reindex_of_unchanged_folder_reads_nothing_and_loads_no_model(
    photo_folder: Path, model_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_paths([photo_folder])

    def no_load(*a, **k):
        raise AssertionError("an unchanged folder must not load the model")

    monkeypatch.setattr(ClipModel, "load", no_load)
    report = index_paths([photo_folder])
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 4)
    assert len(report.skipped) == len(BAD_FILES)  # still reported, every run


def test_changes_are_caught_touch_is_not_a_change(photo_folder: Path, model_env: Path) -> None:
    db = index_paths([photo_folder]).db
    with ImageIndex.open(db) as index:
        before = index.embedding_for_path(str(photo_folder / "coffee.jpg"))
    # touched: new mtime, same bytes → unchanged, vector kept
    os.utime(photo_folder / "coffee.jpg", ns=(1, 1_000_000_000))
    # changed: other pixels under the same name → updated
    shutil.copy(photo_folder / "sub" / "chelsea.png", photo_folder / "sub" / "camera.png")
    # removed
    (photo_folder / "astronaut.jpg").unlink()
    report = index_paths([photo_folder])
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 1, 2)
    with ImageIndex.open(db) as index:
        files = index.files()
        assert str(photo_folder / "astronaut.jpg") not in files
        assert files[str(photo_folder / "coffee.jpg")].mtime_ns == 1_000_000_000
        np.testing.assert_array_equal(index.embedding_for_path(str(photo_folder / "coffee.jpg")), before)
        np.testing.assert_array_equal(
            index.embedding_for_path(str(photo_folder / "sub" / "camera.png")),
            index.embedding_for_path(str(photo_folder / "sub" / "chelsea.png")),
        )


def test_moved_file_reuses_its_vector_without_decoding_or_embedding(
    photo_folder: Path, model_env: Path, monkeypatch: pytest.MonkeyPatch, decodes: list
) -> None:
    db = index_paths([photo_folder]).db
    with ImageIndex.open(db) as index:
        before = index.embedding_for_path(str(photo_folder / "coffee.jpg"))
    (photo_folder / "coffee.jpg").rename(photo_folder / "sub" / "coffee-moved.jpg")
    decodes.clear()
    _no_model_load(monkeypatch)
    report = index_paths([photo_folder])
    assert (report.added, report.updated, report.moved, report.removed, report.unchanged) == (0, 0, 1, 0, 3)
    assert decodes == []  # the workers saw its hash in the index and left the pixels alone
    with ImageIndex.open(db) as index:
        np.testing.assert_array_equal(index.embedding_for_path(str(photo_folder / "sub" / "coffee-moved.jpg")), before)


def test_a_copy_is_added_and_a_copy_plus_a_move_counts_one_move(
    photo_folder: Path, model_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_paths([photo_folder])
    shutil.copy(photo_folder / "coffee.jpg", photo_folder / "coffee-copy.jpg")
    _no_model_load(monkeypatch)
    report = index_paths([photo_folder])
    assert (report.added, report.moved, report.removed) == (1, 0, 0)  # the original stayed: a copy, not a move
    shutil.copy(photo_folder / "astronaut.jpg", photo_folder / "sub" / "a1.jpg")
    shutil.copy(photo_folder / "astronaut.jpg", photo_folder / "sub" / "a2.jpg")
    (photo_folder / "astronaut.jpg").unlink()
    report = index_paths([photo_folder])
    assert (report.added, report.moved, report.removed) == (1, 1, 0)
    assert report.to_dict()["moved"] == 1


def test_a_touched_file_is_hashed_but_not_decoded(
    photo_folder: Path, model_env: Path, monkeypatch: pytest.MonkeyPatch, decodes: list
) -> None:
    db = index_paths([photo_folder]).db
    with ImageIndex.open(db) as index:
        before = index.embedding_for_path(str(photo_folder / "coffee.jpg"))
    os.utime(photo_folder / "coffee.jpg", ns=(1, 1_000_000_000))
    decodes.clear()
    _no_model_load(monkeypatch)
    report = index_paths([photo_folder])
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 4)
    assert decodes == []
    with ImageIndex.open(db) as index:
        assert index.files()[str(photo_folder / "coffee.jpg")].mtime_ns == 1_000_000_000
        np.testing.assert_array_equal(index.embedding_for_path(str(photo_folder / "coffee.jpg")), before)


@pytest.mark.parametrize("workers", [0, 3])
def test_index_vectors_equal_encode_images_and_skips_keep_file_order(
    photo_folder: Path, model_env: Path, monkeypatch: pytest.MonkeyPatch, decodes: list, workers: int
) -> None:
    monkeypatch.setattr(indexing, "default_workers", lambda: workers)
    (photo_folder / "corrupt.png").write_bytes(_corrupt_png())
    written: list[tuple[str, np.ndarray]] = []  # the float32 vectors, before the store rounds them to float16
    real_upsert = ImageIndex.upsert
    monkeypatch.setattr(
        ImageIndex,
        "upsert",
        lambda self, rows: real_upsert(self, [written.append((r.path, r.embedding)) or r for r in rows]),
    )
    report = index_paths([photo_folder], batch_size=3)  # two batches, the second one short
    expected_skips = {
        "bomb.png": "decompression bomb",
        "corrupt.png": "corrupt: ",
        "empty.png": "empty file",
        "fake.jpg": "not an image",
        "truncated.jpg": "truncated",
    }
    assert [Path(s.path).name for s in report.skipped] == list(expected_skips)  # walk order
    for skip, reason in zip(report.skipped, expected_skips.values(), strict=True):
        assert reason in skip.reason
    good = [photo_folder / r for r in ("astronaut.jpg", "coffee.jpg", "sub/camera.png", "sub/chelsea.png")]
    assert [path for path, _ in written] == [str(p) for p in good]
    expected = ClipModel.load(model_env, **ENGINE).encode_images(good)
    np.testing.assert_allclose(np.stack([v for _, v in written]), expected, atol=1e-5)
    with ImageIndex.open(report.db) as index:
        paths, matrix = index.matrix()
    assert paths == [str(p) for p in good]
    np.testing.assert_allclose(matrix, expected, atol=1e-3)  # float16 storage
    threads = {thread for _, thread in decodes}
    if workers:
        assert threads and all(t.startswith("clipaware-decode") for t in threads)
    else:
        assert threads == {threading.main_thread().name}


def test_content_moved_onto_a_file_written_earlier_in_the_run_is_still_embedded(
    photo_folder: Path, model_env: Path, decodes: list
) -> None:
    """The workers decide from the hashes the index held at the start; a row overwritten meanwhile is caught."""
    db = index_paths([photo_folder]).db
    with ImageIndex.open(db) as index:
        coffee = index.embedding_for_path(str(photo_folder / "coffee.jpg"))
    shutil.copy(photo_folder / "coffee.jpg", photo_folder / "sub" / "zz-coffee.jpg")  # its hash is known...
    shutil.copy(photo_folder / "sub" / "chelsea.png", photo_folder / "coffee.jpg")  # ...until this row is rewritten
    decodes.clear()
    report = index_paths([photo_folder], batch_size=1)  # coffee.jpg is written before zz-coffee.jpg is handled
    assert (report.added, report.updated) == (1, 1)
    assert sorted(name for name, _ in decodes) == ["zz-coffee.jpg"]  # coffee.jpg's new bytes are chelsea's
    with ImageIndex.open(db) as index:
        np.testing.assert_allclose(
            index.embedding_for_path(str(photo_folder / "sub" / "zz-coffee.jpg")), coffee, atol=1e-5
        )
        np.testing.assert_array_equal(
            index.embedding_for_path(str(photo_folder / "coffee.jpg")),
            index.embedding_for_path(str(photo_folder / "sub" / "chelsea.png")),
        )


def test_a_file_that_turns_bad_is_dropped_and_reported(photo_folder: Path, model_env: Path) -> None:
    db = index_paths([photo_folder]).db
    (photo_folder / "coffee.jpg").write_bytes(b"garbage now")
    report = index_paths([photo_folder])
    assert report.removed == 1
    assert any(s.path.endswith("coffee.jpg") and "not an image" in s.reason for s in report.skipped)
    with ImageIndex.open(db) as index:
        assert str(photo_folder / "coffee.jpg") not in index.files()


def test_indexing_one_folder_keeps_the_other_folders_entries(photo_folder: Path, model_env: Path, tmp_path) -> None:
    db = tmp_path / "all.db"
    index_paths([photo_folder / "sub", photo_folder / "coffee.jpg"], db=db)
    report = index_paths([photo_folder / "sub"], db=db)  # coffee.jpg was not in this run's paths
    assert report.removed == 0
    with ImageIndex.open(db) as index:
        assert len(index) == 3


def test_batch_size_does_not_change_stored_vectors(photo_folder: Path, model_env: Path, tmp_path: Path) -> None:
    a = index_paths([photo_folder], db=tmp_path / "a.db", batch_size=1).db
    b = index_paths([photo_folder], db=tmp_path / "b.db", batch_size=64).db
    with ImageIndex.open(a) as ia, ImageIndex.open(b) as ib:
        pa, ma = ia.matrix()
        pb, mb = ib.matrix()
    order = np.argsort(pb)
    np.testing.assert_allclose(ma[np.argsort(pa)], mb[order], atol=1e-5)


def test_each_image_is_its_own_top_hit(photo_folder: Path, model_env: Path) -> None:
    db = index_paths([photo_folder]).db
    with Library.open(db) as library:
        for rel in GOOD:
            path = photo_folder / rel
            hits = search(library, image=path, k=2)
            assert hits[0].path == str(path) and hits[0].score == pytest.approx(1.0, abs=1e-5)
            assert str(path) not in [h.path for h in similar(library, path, k=3)]


def test_text_search_ranks_by_cosine(photo_folder: Path, model_env: Path) -> None:
    db = index_paths([photo_folder]).db
    model = ClipModel.load(model_env, **ENGINE)
    with Library.open(db) as library:
        hits = search(library, text="a photo of a cat.", k=10)
        paths, matrix = library.store.matrix()
    expected = matrix @ model.encode_texts(["a photo of a cat."])[0]
    assert [h.path for h in hits] == [paths[i] for i in np.argsort(-expected)]
    assert [h.score for h in hits] == pytest.approx(sorted(expected, reverse=True), abs=1e-5)


def test_a_query_with_another_model_is_refused(photo_folder: Path, model_env: Path, tiny_siglip_dir: Path) -> None:
    db = index_paths([photo_folder]).db
    with pytest.raises(ModelMismatchError, match="was built with model"):
        Library.open(db, model=str(tiny_siglip_dir))
    with pytest.raises(ModelMismatchError):
        index_paths([photo_folder], model=str(tiny_siglip_dir))


def test_bad_requests_are_clear_errors(photo_folder: Path, model_env: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file or folder"):
        index_paths([tmp_path / "nope"])
    with pytest.raises(IndexUnavailableError, match="no index at"):
        ImageIndex.open(tmp_path / "missing.db")
    (tmp_path / "junk.db").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(IndexUnavailableError, match="not a clipaware index"):
        ImageIndex.open(tmp_path / "junk.db")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(IndexUnavailableError, match="not a clipaware index"):
        ImageIndex.open(other)
    db = index_paths([photo_folder]).db
    with Library.open(db) as library, pytest.raises(UsageError):
        search(library, text="   ")


def test_schema_is_versioned_and_a_newer_one_is_refused(photo_folder: Path, model_env: Path) -> None:
    db = index_paths([photo_folder]).db
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(IndexUnavailableError, match="newer clipaware"):
        ImageIndex.open(db)


def test_a_bad_file_that_is_fixed_gets_indexed(photo_folder: Path, model_env: Path) -> None:
    index_paths([photo_folder])
    shutil.copy(photo_folder / "coffee.jpg", photo_folder / "fake.jpg")
    report = index_paths([photo_folder])
    assert report.added == 1
    assert "fake.jpg" not in {Path(s.path).name for s in report.skipped}


def test_a_version_1_index_is_migrated_in_place_keeping_its_rows(tmp_path: Path) -> None:
    from clipaware.index.sqlite import MIGRATIONS

    db = tmp_path / "v1.db"
    conn = sqlite3.connect(db)
    conn.executescript(MIGRATIONS[0])
    conn.execute("INSERT INTO meta VALUES ('model', 'm'), ('dim', '2')")
    vec = np.array([1, 0], np.float32).tobytes()
    conn.execute("INSERT INTO images VALUES (1, '/x.jpg', 1, 1, 'h', 2, 2, ?, 0)", (vec,))
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with ImageIndex.open(db) as index:
        assert index.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert list(index.files()) == ["/x.jpg"] and index.skipped_files() == {}
