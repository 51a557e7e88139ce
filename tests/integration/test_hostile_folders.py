"""Hostile folders (issue 15): what a real photo folder can hold must never hang, exhaust memory, take a batch
down or lose indexed rows. Each case gets its own test; the last test builds every case in one folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from skimage import data
from tests.helpers import index_folder as index_paths

import clipaware
from clipaware.errors import UsageError
from clipaware.index.sqlite import ImageIndex
from clipaware.index.store import StoreSpec
from clipaware.library import Library
from clipaware.tasks.search import search

NON_UTF8 = os.fsdecode(b"caf\xe9-\xff.jpg")  # Latin-1 bytes from an old archive: not valid UTF-8
SRC = str(Path(clipaware.__file__).resolve().parents[1])


@pytest.fixture()
def model_env(tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLIPAWARE_MODEL", str(tiny_clip_dir))
    return tiny_clip_dir


@pytest.fixture()
def shared_tmp() -> Iterator[Path]:
    """A temporary folder every user may enter (pytest's own is private to root, and some tests drop root)."""
    folder = Path(tempfile.mkdtemp(prefix="clipaware-hostile-"))
    folder.chmod(0o755)
    yield folder
    for path in folder.rglob("*"):  # give back what a test locked, so it can be removed
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder, ignore_errors=True)


def _non_utf8_supported(folder: Path) -> bool:
    try:
        (folder / NON_UTF8).write_bytes(b"")
    except (OSError, UnicodeEncodeError):
        return False
    (folder / NON_UTF8).unlink()
    return True


def test_a_non_utf8_file_name_is_stored_losslessly_and_does_not_fail_the_batch(tmp_path: Path, model_env: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    if not _non_utf8_supported(folder):
        pytest.skip("this file system refuses names that are not UTF-8")
    Image.fromarray(data.astronaut()).save(folder / "astronaut.jpg")
    Image.fromarray(data.coffee()).save(folder / NON_UTF8, "JPEG")
    report = index_paths([folder], batch_size=8)  # both in one batch: the bad name used to fail it whole
    assert (report.added, report.skipped) == (2, ())
    odd = str(folder / NON_UTF8)
    with ImageIndex.open(report.db) as index:
        assert set(index.files()) == {str(folder / "astronaut.jpg"), odd}
        assert index.file_facts(odd) is not None and index.embedding_for_path(odd) is not None
    with Library.open(report.db) as library:
        hit = search(library, image=folder / NON_UTF8, k=1)[0]
        assert hit.path == odd and hit.score == pytest.approx(1.0, abs=1e-3)
        assert os.fsencode(hit.path) == os.fsencode(folder) + b"/caf\xe9-\xff.jpg"  # the very bytes on disk
    again = index_paths([folder])
    assert (again.added, again.unchanged) == (0, 2)  # found again under the same key: not re-embedded
    (folder / NON_UTF8).unlink()
    assert index_paths([folder]).removed == 1


def test_a_non_utf8_bad_file_is_remembered_as_skipped(tmp_path: Path, model_env: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    if not _non_utf8_supported(folder):
        pytest.skip("this file system refuses names that are not UTF-8")
    Image.fromarray(data.astronaut()).save(folder / "astronaut.jpg")
    (folder / NON_UTF8).write_text("not a picture")
    first = index_paths([folder])
    assert first.added == 1 and [s.path for s in first.skipped] == [str(folder / NON_UTF8)]
    with ImageIndex.open(first.db) as index:
        assert list(index.skipped_files()) == [str(folder / NON_UTF8)]


def test_milvus_says_why_it_cannot_hold_a_non_utf8_name() -> None:
    spec = StoreSpec.parse("milvus-lite:/tmp/x.db")
    assert "not valid UTF-8" in (spec.cannot_store("/a/" + NON_UTF8) or "")
    assert spec.cannot_store("/a/ordinary é.jpg") is None
    assert StoreSpec.parse("/tmp/a.db").cannot_store("/a/" + NON_UTF8) is None  # SQLite keeps any name


def _unprivileged(code: str, *args: str, home: Path, env: dict[str, str] | None = None) -> object:
    """Run ``code`` (which prints one JSON value) as a user that permissions really apply to: the test user,
    or ``nobody`` when tests run as root (root reads and writes anything, so a chmod alone denies it nothing)."""
    command = [sys.executable, "-c", code, *args]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: cannot deny a permission for real")
        command = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", *command]
    full = {**os.environ, "PYTHONPATH": SRC, "HOME": str(home), "HF_HUB_OFFLINE": "1", **(env or {})}
    if "CLIPAWARE_MODEL" not in (env or {}):
        full.pop("CLIPAWARE_MODEL", None)  # an index names its model; the test's model folder is root's
    done = subprocess.run(command, capture_output=True, text=True, env=full, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def _index_as_unprivileged(folder: Path, db: Path) -> dict:
    code = (
        "import json, sys; from clipaware.library import Library; from clipaware.tasks.indexing import index_paths\n"
        "with Library.open(sys.argv[2], create=True) as library:\n"
        "    print(json.dumps(index_paths(library, [sys.argv[1]]).to_dict()))"
    )
    return _unprivileged(code, str(folder), str(db), home=folder.parent)  # type: ignore[return-value]


def test_an_unreadable_sub_folder_is_reported_and_its_rows_are_kept(shared_tmp: Path, model_env: Path) -> None:
    folder = shared_tmp / "photos"
    (folder / "private").mkdir(parents=True)
    Image.fromarray(data.astronaut()).save(folder / "astronaut.jpg")
    Image.fromarray(data.chelsea()).save(folder / "private" / "chelsea.png")
    db = shared_tmp / "lib" / "index.db"
    assert index_paths([folder], db=db).added == 2
    for path in (folder, folder / "astronaut.jpg", db.parent, db):
        path.chmod(0o777 if path.is_dir() else 0o666)  # the unprivileged run may read the folder, write the db
    (folder / "private").chmod(0)

    report = _index_as_unprivileged(folder, db)
    assert (report["added"], report["removed"], report["unchanged"]) == (0, 0, 1)
    [skip] = report["skipped"]
    assert skip["path"] == str(folder / "private") and "unreadable folder" in skip["reason"]
    with ImageIndex.open(db) as index:
        assert str(folder / "private" / "chelsea.png") in index.files()

    (folder / "private").chmod(0o755)  # readable again: nothing to redo
    again = index_paths([folder], db=db)
    assert (again.removed, again.unchanged, again.skipped) == (0, 2, ())
    shutil.rmtree(folder / "private")  # really gone now: dropped
    assert index_paths([folder], db=db).removed == 1


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_an_argument_that_is_neither_a_folder_nor_a_file_is_a_usage_error(
    tmp_path: Path, model_env: Path, kind: str
) -> None:
    if kind == "device":
        target = Path(os.devnull)
    else:
        if not hasattr(os, "mkfifo"):
            pytest.skip("no named pipes here")
        target = tmp_path / "pipe.jpg"
        os.mkfifo(target)
    with pytest.raises(UsageError, match=r"cannot index .*(device|named pipe)"):
        index_paths([target], db=tmp_path / "x.db")
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize("rows", [6, 40])  # 40 rows pass the ANN threshold set below: it is built, not saved
def test_an_index_in_a_read_only_folder_can_be_searched(shared_tmp: Path, rows: int) -> None:
    import numpy as np

    from clipaware.index.store import NewEmbedding

    backup = shared_tmp / "backup"
    backup.mkdir()
    db = backup / "index.db"
    vectors = np.eye(64, dtype=np.float32)[:rows]
    with ImageIndex.create_or_open(db, "m", 64) as index:
        index.upsert(NewEmbedding(f"/p/{i}.jpg", 1, 1, f"{i:064x}", 1, 1, v) for i, v in enumerate(vectors))
    assert not db.with_name("index.db-wal").exists()  # closed cleanly: only the database file is left
    db.chmod(0o444)
    backup.chmod(0o555)
    code = (
        "import json, sys, numpy as np; from clipaware.index.sqlite import ImageIndex\n"
        "with ImageIndex.open(sys.argv[1]) as index:\n"
        "    q = np.eye(64, dtype=np.float32)[3]\n"
        "    print(json.dumps([index.read_only, len(index), index.search(q, 2)]))"
    )
    read_only, count, hits = _unprivileged(code, str(db), home=shared_tmp, env={"CLIPAWARE_ANN_THRESHOLD": "20"})
    assert (read_only, count) == (True, rows)
    assert hits[0] == ["/p/3.jpg", pytest.approx(1.0, abs=1e-3)]
    assert sorted(p.name for p in backup.iterdir()) == ["index.db"]  # nothing written beside it


def test_a_folder_holding_every_hostile_case_indexes_in_bounded_time_and_memory(
    shared_tmp: Path, tiny_clip_dir: Path
) -> None:
    """FIFO, device symlinks, a sparse giant, an unsupported format, markup and non-UTF-8 names, an unreadable
    sub-folder, a 36-megapixel RGBA PNG of a few KB, AVIF and HEIC: `clipaware index` (a real process, as a
    user permissions apply to) finishes, with every good image in and every bad one reported."""
    import resource

    from clipaware import images

    folder = shared_tmp / "[bold]hostile["
    folder.mkdir()
    good = {
        "astronaut.jpg": lambda p: Image.fromarray(data.astronaut()).save(p),
        "red]chelsea.png": lambda p: Image.fromarray(data.chelsea()).save(p),  # path holds "[/red]"
        "x:cat:.png": lambda p: Image.fromarray(data.camera()).save(p),
        "coffee.avif": lambda p: Image.fromarray(data.coffee()).save(p, "AVIF"),
        "big-rgba.png": lambda p: Image.new("RGBA", (6000, 6000), (10, 20, 30, 128)).save(p),
    }
    if images.HEIF_AVAILABLE:
        good["rocket.heic"] = lambda p: Image.fromarray(data.rocket()).save(p, "HEIF")
    if _non_utf8_supported(folder):
        good[NON_UTF8] = lambda p: Image.fromarray(data.coffee()[::2, ::2]).save(p, "JPEG")
    for name, write in good.items():
        write(folder / name)
    bad = {"pipe.jpg": "named pipe", "zero.jpg": "character device", "random.png": "character device"}
    os.mkfifo(folder / "pipe.jpg")
    (folder / "zero.jpg").symlink_to("/dev/zero")
    (folder / "random.png").symlink_to("/dev/urandom")
    with open(folder / "giant.jpg", "wb") as f:
        f.truncate(30 * 1024**3)
    bad["giant.jpg"] = "too large"
    (folder / "drawing.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    bad["drawing.svg"] = "unsupported image format"
    (folder / "[red]broken.jpg").write_text("not a picture")
    bad["[red]broken.jpg"] = "not an image"
    (folder / "private").mkdir()
    Image.fromarray(data.astronaut()).save(folder / "private" / "secret.jpg")
    (folder / "private").chmod(0)
    bad["private"] = "unreadable folder"
    model = shared_tmp / "model"
    shutil.copytree(tiny_clip_dir, model)
    for path in [shared_tmp, folder, model, *model.rglob("*"), *folder.iterdir()]:
        if path.is_symlink() or path.name in ("private", "pipe.jpg"):
            continue
        path.chmod(0o777 if path.is_dir() else 0o666)

    code = (
        "import sys; from clipaware.cli import main; "
        "sys.argv = ['clipaware', 'index', sys.argv[1], '--json', '--decode-megapixels', '40']; main()"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    (shared_tmp / "onnx").mkdir(mode=0o777)
    env = {"CLIPAWARE_MODEL": str(model), "CLIPAWARE_ONNX_CACHE": str(shared_tmp / "onnx")}
    report = _unprivileged(code, str(folder), home=shared_tmp, env=env)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child so far, KB → MB
    assert peak_mb < 2500 or peak_mb <= before / 1024, f"{peak_mb:.0f} MB"

    assert isinstance(report, dict)
    assert report["added"] == len(good), report
    reasons = {
        Path(os.fsencode(s["path"]).decode("utf-8", "surrogateescape")).name: s["reason"] for s in report["skipped"]
    }
    assert set(reasons) == set(bad), reasons
    for name, reason in bad.items():
        assert reason in reasons[name], (name, reasons[name])
    with ImageIndex.open(report["db"]) as index:
        assert {Path(p).name for p in index.files()} == set(good)


@pytest.mark.parametrize(
    ("damage", "what"),
    [
        ("UPDATE images SET embedding = x'0000' WHERE path = '/p/1.jpg'", "stored vector"),
        ("UPDATE meta SET value = 'eleven' WHERE key = 'generation'", "generation is 'eleven'"),
        ("UPDATE meta SET value = '' || 'x' WHERE key = 'dim'", "dim is 'x'"),
    ],
)
def test_a_tampered_index_says_it_is_corrupt(tmp_path: Path, damage: str, what: str) -> None:
    import sqlite3

    import numpy as np

    from clipaware.errors import IndexUnavailableError
    from clipaware.index.store import NewEmbedding

    db = tmp_path / "index.db"
    with ImageIndex.create_or_open(db, "m", 4) as index:
        index.upsert(
            NewEmbedding(f"/p/{i}.jpg", 1, 1, f"{i:064x}", 1, 1, np.eye(4, dtype=np.float32)[i]) for i in range(3)
        )
    conn = sqlite3.connect(db)
    conn.execute(damage)
    conn.commit()
    conn.close()
    with pytest.raises(IndexUnavailableError, match=f"is corrupt: .*{what}"), ImageIndex.open(db) as index:
        index.search(np.eye(4, dtype=np.float32)[0], 3)  # a bad dim is caught on opening, the rest on reading
        index.matrix()


def test_indexing_into_a_read_only_folder_fails_first_and_says_why(shared_tmp: Path) -> None:
    """Before any model is loaded (the unprivileged run has none it could load): one clear line."""
    folder = shared_tmp / "photos"
    folder.mkdir(mode=0o755)
    Image.fromarray(data.astronaut()).save(folder / "astronaut.jpg")
    (folder / "astronaut.jpg").chmod(0o644)
    locked = shared_tmp / "locked"
    locked.mkdir(mode=0o555)
    code = (
        "import json, sys\n"
        "from clipaware.errors import UsageError\n"
        "from clipaware.library import Library\n"
        "from clipaware.tasks.indexing import index_paths\n"
        "try:\n"
        "    with Library.open(sys.argv[2], model='no-such/model', create=True) as library:\n"
        "        index_paths(library, [sys.argv[1]])\n"
        "except UsageError as exc:\n"
        "    print(json.dumps(str(exc)))\n"
    )
    message = _unprivileged(code, str(folder), str(locked / "sub" / "index.db"), home=shared_tmp)
    assert isinstance(message, str) and "cannot write the index" in message and str(locked) in message


def test_searching_an_index_whose_first_run_was_killed_says_to_run_it_again(tmp_path: Path) -> None:
    import sqlite3

    from clipaware.errors import IndexUnavailableError
    from clipaware.index.sqlite import MIGRATIONS

    db = tmp_path / "index.db"
    conn = sqlite3.connect(db)  # what a SIGKILL between the schema commit and the meta commit leaves
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with pytest.raises(IndexUnavailableError, match="unfinished: the first `clipaware index` run"):
        Library.open(db)
