"""dlib's real face models on scikit-image's real portraits: detection, descriptors, grouping, crash safety."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from clipaware.models.faces import SAME_PERSON_DISTANCE, faces_available

MISSING = faces_available()
pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"face models unavailable: {MISSING}")


@pytest.fixture(scope="module")
def hog():
    from clipaware.models.faces import DlibFaces

    return DlibFaces("hog")


def test_the_shipped_weights_load_offline_and_describe_the_astronaut(hog) -> None:
    from clipaware.eval.faces import ASTRONAUT_FACE, matches

    image = Image.fromarray(data.astronaut())
    scan = hog.scan(image)
    (face,) = [f for f in scan.faces if matches(f.box, ASTRONAUT_FACE)]
    assert face.descriptor.shape == (128,) and face.descriptor.dtype == np.float32
    assert face.score > 0.5
    again = next(f for f in hog.scan(image).faces if matches(f.box, ASTRONAUT_FACE))
    np.testing.assert_array_equal(face.descriptor, again.descriptor)  # deterministic
    # a big image is scanned at MAX_SIDE, boxes come back in its own pixels
    big = image.resize((2048, 2048))
    (big_face,) = [f for f in hog.scan(big).faces if matches(f.box, tuple(v * 4 for v in ASTRONAUT_FACE))]
    assert np.linalg.norm(big_face.descriptor - face.descriptor) < SAME_PERSON_DISTANCE


@pytest.mark.parametrize("name", ["chelsea", "coffee", "rocket", "brick"])
def test_a_non_face_image_yields_no_face(hog, name: str) -> None:
    scan = hog.scan(Image.fromarray(getattr(data, name)()).convert("RGB"))
    assert scan.faces == () and scan.small == 0


def test_faces_below_the_minimum_size_are_counted_not_described() -> None:
    from clipaware.models.faces import MIN_FACE_SIZE, DlibFaces

    eager = DlibFaces("hog", upsample=2)  # finds ~20 px faces, which are then too small to describe
    tiny = Image.fromarray(data.astronaut()).resize((150, 150))
    scan = eager.scan(tiny)
    assert scan.faces == () and scan.small >= 1
    assert MIN_FACE_SIZE == 40


def test_the_same_persons_augmented_photos_group_together_and_apart_from_others(hog) -> None:
    from clipaware.eval.faces import CAMERAMAN_FACE, face_set, matches
    from clipaware.tasks.faces import assign_people

    wanted = ("original", "crop(120", "scale0.5", "scale1.5", "rotate+10", "brightness1.6", "jpeg10", "grey")
    photos = [p for p in face_set() if p.person == "eileen_collins" and p.name.split("/")[1].startswith(wanted)]
    assert len(photos) == len(wanted)
    descriptors, paths, truth = [], [], []
    for photo in photos:
        for face in hog.scan(photo.image).faces:
            descriptors.append(face.descriptor)
            paths.append(photo.name)
            truth.append(matches(face.box, photo.box))
    assert sum(truth) == len(photos)  # her face found in every variant
    labels = assign_people(np.zeros((0, 128)), [], [], np.stack(descriptors), paths)
    hers = {label for label, real in zip(labels, truth, strict=True) if real}
    assert len(hers) == 1  # every variant of her face is one person
    assert all(label not in hers for label, real in zip(labels, truth, strict=True) if not real)  # the mission patch
    camera = Image.fromarray(data.camera()).convert("RGB")
    other = hog.describe_box(camera, CAMERAMAN_FACE)  # HOG misses his three-quarter face: use its known box
    theirs = np.stack([d for d, real in zip(descriptors, truth, strict=True) if real])
    assert np.linalg.norm(theirs - other, axis=1).min() > SAME_PERSON_DISTANCE


def _faces_folder(root: Path) -> Path:
    from clipaware.eval.faces import face_set

    root.mkdir(parents=True, exist_ok=True)
    keep = {"astronaut/original", "astronaut/scale0.75", "astronaut/rotate-10", "negative/coffee"}
    for photo in face_set():
        if photo.name in keep:
            photo.image.save(root / (photo.name.replace("/", "_") + ".jpg"), quality=92)
    return root


def test_a_run_interrupted_mid_pass_loses_nothing_and_the_next_finishes(tmp_path: Path, tiny_clip_dir, hog) -> None:
    from tests.helpers import index_folder

    from clipaware.index.sqlite import ImageIndex

    folder = _faces_folder(tmp_path / "photos")
    db = tmp_path / "x.db"
    seen: list[str] = []

    class Dying:
        """The real model, until the third image: then the process 'dies' (an uncatchable-like exit)."""

        name, detector = hog.name, hog.detector

        def scan(self, image):
            if len(seen) == 2:
                raise KeyboardInterrupt
            seen.append("x")
            return hog.scan(image)

    with pytest.raises(KeyboardInterrupt):
        index_folder([folder], db=db, model=str(tiny_clip_dir), faces=True, face_model=lambda _: Dying())
    with ImageIndex.open(db) as index:
        assert len(index.people.scans()) == 2  # the two images finished before the crash are kept, whole
        before = {r[0]: r[1:] for r in index.conn.execute("SELECT id, path, descriptor FROM faces")}
    report = index_folder([folder], db=db, model=str(tiny_clip_dir), face_model=lambda _: hog)  # remembered: on
    assert report.faces is not None and report.faces.scanned == 2  # only what was missing
    with ImageIndex.open(db) as index:
        after = {r[0]: r[1:] for r in index.conn.execute("SELECT id, path, descriptor FROM faces")}
        assert index.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert index.people.faces(grouped=False) == []
    assert {k: after[k] for k in before} == before  # nothing committed was redone
    clean = index_folder([folder], db=tmp_path / "clean.db", model=str(tiny_clip_dir), faces=True,
                         face_model=lambda _: hog)  # fmt: skip
    with ImageIndex.open(db) as index, ImageIndex.open(tmp_path / "clean.db") as other:
        ours = sorted((f.path, f.box) for f in index.people.faces())
        theirs = sorted((f.path, f.box) for f in other.people.faces())
    assert ours == theirs and clean.faces is not None and clean.faces.faces == len(ours)


@pytest.mark.slow  # ~1-3 min on the shared 2-core machine (real processes, real SIGKILLs); CI runs it explicitly
def test_sigkill_during_the_face_pass_never_corrupts_and_resumes(tiny_clip_dir: Path, tmp_path: Path) -> None:
    import os
    import random
    import signal
    import sqlite3
    import time

    from tests.integration.test_crash import Zygote

    from clipaware.eval.faces import face_set
    from clipaware.index.sqlite import ImageIndex

    folder = tmp_path / "photos"
    folder.mkdir()
    photos = [p for p in face_set() if p.person == "eileen_collins"]

    def add(start: int, count: int) -> None:
        for i in range(start, start + count):
            photos[i].image.save(folder / f"face{i:02d}.jpg", quality=90)

    add(0, 8)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[2] / "src"), env.get("PYTHONPATH", "")])
    zygote = Zygote(env)
    db = tmp_path / "index.db"
    argv = ["index", str(folder), "--db", str(db), "--model", str(tiny_clip_dir), "--faces", "--json"]

    def scanned() -> dict[str, list[tuple]]:
        if not db.exists() or ImageIndex.is_blank(db):
            return {}
        conn = sqlite3.connect(db)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            marks = dict(conn.execute("SELECT path, faces FROM face_scans").fetchall())
            rows = conn.execute("SELECT path, x0, y0, x1, y1, descriptor FROM faces ORDER BY id").fetchall()
        finally:
            conn.close()
        out: dict[str, list[tuple]] = {path: [] for path in marks}
        for path, *face in rows:
            out[path].append(tuple(face))
        for path, count in marks.items():
            assert len(out[path]) == count, f"{path}: scan mark and faces disagree (a half-written image)"
        return out

    try:
        start = time.perf_counter()
        assert zygote.run([*argv[:3], str(tmp_path / "calibration.db"), *argv[4:]], kill_after=None) == 0
        full = time.perf_counter() - start
        rnd = random.Random(11)
        kills, before, added = 0, {}, 8
        for _ in range(6):
            kills += zygote.run(argv, kill_after=rnd.uniform(0.2 * full, 0.8 * full)) == signal.SIGKILL
            now = scanned()
            for path, faces in before.items():  # what was committed is never redone or lost
                assert now.get(path) == faces, path
            before = now
            add(added, 2)  # more work for the next run, so kills keep landing mid-run
            added += 2
        assert kills >= 3, f"only {kills} of 6 runs were killed mid-way"
        assert zygote.run(argv, kill_after=None) == 0
        assert zygote.run([*argv[:3], str(tmp_path / "clean.db"), *argv[4:]], kill_after=None) == 0
    finally:
        zygote.close()
    final = scanned()
    assert set(final) == {str(p) for p in folder.glob("*.jpg")}
    with ImageIndex.open(db) as index, ImageIndex.open(tmp_path / "clean.db") as other:
        assert sorted((f.path, f.box) for f in index.people.faces()) == sorted(
            (f.path, f.box) for f in other.people.faces()
        )
        assert index.people.faces(grouped=False) == []


def test_an_image_the_face_model_cannot_take_is_reported_not_fatal(tmp_path: Path, tiny_clip_dir, hog) -> None:
    from tests.helpers import index_folder

    folder = _faces_folder(tmp_path / "photos")

    class Picky:
        name, detector = hog.name, hog.detector

        def scan(self, image):
            if image.width < 400:
                raise RuntimeError("Unsupported image type")  # what dlib raises on pixels it cannot use
            return hog.scan(image)

    report = index_folder([folder], db=tmp_path / "x.db", model=str(tiny_clip_dir), faces=True,
                          face_model=lambda _: Picky())  # fmt: skip
    assert report.faces is not None
    assert [s.reason for s in report.faces.skipped] == ["faces: RuntimeError: Unsupported image type"]
    assert report.faces.scanned == 3 and report.added == 4
