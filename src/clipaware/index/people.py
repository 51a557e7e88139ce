"""Faces and people in the index: the ``faces``, ``face_scans`` and ``people`` tables (schema v4).

Face data never leaves the store it was computed for. Every write here is one transaction, so a run
killed at any moment leaves each image either fully scanned (its faces and its scan mark) or not at all,
and the next run scans only what is missing. A face counts only while the image row beside it still
holds the content it was computed from (same path and content hash): a changed file's old faces are
ignored until it is scanned again, whatever else happened in between.

The stores that keep faces implement :class:`PeopleStore`; today that is the SQLite index. Milvus keeps
image vectors only (its collections are vector tables; names, merges and splits want transactions).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from clipaware.errors import UsageError
from clipaware.models.faces import DESCRIPTOR_DIM, FoundFace

FACES_KEY = "faces"  # meta: the face detector an index scans with ('hog' / 'cnn'); absent: faces off
FACE_MODEL_KEY = "face_model"  # meta: the descriptor model its faces came from


@dataclass(frozen=True)
class FaceRow:
    """One stored face: where it is, how sure the detector was, and whose it is (None: not grouped yet)."""

    id: int
    path: str
    box: tuple[int, int, int, int]
    score: float
    person_id: int | None
    pinned: bool

    @property
    def area(self) -> int:
        return max(0, self.box[2] - self.box[0]) * max(0, self.box[3] - self.box[1])

    def to_dict(self) -> dict[str, object]:
        return {"face": self.id, "path": self.path, "box": list(self.box), "score": round(self.score, 4),
                "person": self.person_id}  # fmt: skip


@dataclass(frozen=True)
class PersonRow:
    id: int
    name: str | None


@dataclass(frozen=True)
class ScanRecord:
    """The faces found in one image's content, ready to be written."""

    path: str
    sha256: str
    faces: tuple[FoundFace, ...]
    small: int


@runtime_checkable
class PeopleStore(Protocol):
    """What the people tasks need from a store that keeps faces."""

    def face_detector(self) -> str | None: ...

    def set_face_detector(self, detector: str | None, model: str) -> None: ...

    def face_model(self) -> str | None: ...

    def scans(self) -> dict[str, str]: ...

    def copy_scan(self, sha256: str, path: str) -> bool: ...

    def record_scans(self, records: Iterable[ScanRecord], model: str) -> None: ...

    def faces(self, *, person_id: int | None = None, grouped: bool | None = None) -> list[FaceRow]: ...

    def descriptors(self, face_ids: Sequence[int]) -> np.ndarray: ...

    def face_counts(self) -> dict[str, int]: ...

    def people(self) -> list[PersonRow]: ...

    def person(self, person_id: int) -> PersonRow | None: ...

    def person_named(self, name: str) -> PersonRow | None: ...

    def new_person(self, name: str | None = None) -> int: ...

    def assign(self, face_ids: Sequence[int], person_id: int, *, pinned: bool = False) -> None: ...

    def rename(self, person_id: int, name: str | None) -> None: ...

    def merge(self, keep: int, others: Sequence[int]) -> None: ...

    def forget(self, person_id: int) -> int: ...

    def drop_empty_unnamed(self) -> int: ...


def _blob(descriptor: np.ndarray) -> bytes:
    vector = np.asarray(descriptor, dtype=np.float32).reshape(-1)
    if vector.shape[0] != DESCRIPTOR_DIM:
        raise ValueError(f"a face descriptor has {DESCRIPTOR_DIM} values, not {vector.shape[0]}")
    return vector.tobytes()


# Faces whose image row still holds the content they were computed from.
_LIVE = "FROM faces f JOIN images i ON i.path = f.path AND i.sha256 = f.sha256"


class SqlitePeople:
    """:class:`PeopleStore` over an index's SQLite connection (see :attr:`ImageIndex.people`)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    # ------------------------------------------------------------------------------- the setting
    def _meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def face_detector(self) -> str | None:
        """The detector this index scans faces with; None when faces are off (the default)."""
        return self._meta(FACES_KEY)

    def face_model(self) -> str | None:
        return self._meta(FACE_MODEL_KEY)

    def set_face_detector(self, detector: str | None, model: str) -> None:
        """Turn faces on with ``detector`` (remembered for later runs), or off with None (data is kept)."""
        with self.conn:
            if detector is None:
                self.conn.execute("DELETE FROM meta WHERE key = ?", (FACES_KEY,))
                return
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (FACES_KEY, detector))
            self.conn.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (FACE_MODEL_KEY, model))

    # ---------------------------------------------------------------------------------- scanning
    def scans(self) -> dict[str, str]:
        """path → content hash of every image whose faces are done."""
        return dict(self.conn.execute("SELECT path, sha256 FROM face_scans").fetchall())

    def copy_scan(self, sha256: str, path: str) -> bool:
        """Give ``path`` the faces already found in the same content elsewhere (a moved or copied file).

        The copies keep their person, so a moved photo stays Alice's. False when that content was never
        scanned.
        """
        with self.conn:
            source = self.conn.execute(
                "SELECT path, model, faces, small FROM face_scans WHERE sha256 = ? AND path != ? LIMIT 1",
                (sha256, path),
            ).fetchone()
            if source is None:
                return False
            self.conn.execute("DELETE FROM faces WHERE path = ?", (path,))
            self.conn.execute(
                """INSERT INTO faces (path, sha256, x0, y0, x1, y1, score, descriptor, person_id, pinned)
                   SELECT ?, sha256, x0, y0, x1, y1, score, descriptor, person_id, pinned FROM faces
                   WHERE path = ? AND sha256 = ? ORDER BY id""",
                (path, source[0], sha256),
            )
            self.conn.execute(
                "INSERT OR REPLACE INTO face_scans VALUES (?, ?, ?, ?, ?, ?)",
                (path, sha256, source[1], source[2], source[3], time.time()),
            )
        return True

    def record_scans(self, records: Iterable[ScanRecord], model: str) -> None:
        """Replace the faces of each scanned image, and mark it scanned, in one transaction."""
        records = list(records)
        if not records:
            return
        now = time.time()
        with self.conn:
            for r in records:
                self.conn.execute("DELETE FROM faces WHERE path = ?", (r.path,))
                self.conn.executemany(
                    "INSERT INTO faces (path, sha256, x0, y0, x1, y1, score, descriptor) VALUES (?,?,?,?,?,?,?,?)",
                    [(r.path, r.sha256, *f.box, float(f.score), _blob(f.descriptor)) for f in r.faces],
                )
                self.conn.execute(
                    "INSERT OR REPLACE INTO face_scans VALUES (?, ?, ?, ?, ?, ?)",
                    (r.path, r.sha256, model, len(r.faces), r.small, now),
                )

    # ------------------------------------------------------------------------------------- reads
    def faces(self, *, person_id: int | None = None, grouped: bool | None = None) -> list[FaceRow]:
        """Live faces, in id order: of one person, or only (un)grouped ones."""
        where, params = "1", []
        if person_id is not None:
            where, params = "f.person_id = ?", [person_id]
        elif grouped is not None:
            where = "f.person_id IS NOT NULL" if grouped else "f.person_id IS NULL"
        rows = self.conn.execute(
            f"SELECT f.id, f.path, f.x0, f.y0, f.x1, f.y1, f.score, f.person_id, f.pinned {_LIVE} "
            f"WHERE {where} ORDER BY f.id",
            params,
        ).fetchall()
        return [FaceRow(r[0], r[1], (r[2], r[3], r[4], r[5]), r[6], r[7], bool(r[8])) for r in rows]

    def descriptors(self, face_ids: Sequence[int]) -> np.ndarray:
        """(n, 128) float32 descriptors of ``face_ids``, in that order."""
        ids = [int(i) for i in face_ids]
        found: dict[int, bytes] = {}
        for start in range(0, len(ids), 900):
            part = ids[start : start + 900]
            marks = ",".join("?" * len(part))
            found.update(self.conn.execute(f"SELECT id, descriptor FROM faces WHERE id IN ({marks})", part).fetchall())
        if not ids:
            return np.zeros((0, DESCRIPTOR_DIM), np.float32)
        return np.frombuffer(b"".join(found[i] for i in ids), dtype=np.float32).reshape(len(ids), DESCRIPTOR_DIM)

    def face_counts(self) -> dict[str, int]:
        """Totals for reports: images scanned, faces kept, small faces skipped."""
        row = self.conn.execute("SELECT COUNT(*), COALESCE(SUM(faces), 0), COALESCE(SUM(small), 0) FROM face_scans")
        scanned, faces, small = row.fetchone()
        return {"images_scanned": int(scanned), "faces": int(faces), "small_faces_skipped": int(small)}

    def people(self) -> list[PersonRow]:
        return [PersonRow(r[0], r[1]) for r in self.conn.execute("SELECT id, name FROM people ORDER BY id")]

    def person(self, person_id: int) -> PersonRow | None:
        row = self.conn.execute("SELECT id, name FROM people WHERE id = ?", (int(person_id),)).fetchone()
        return PersonRow(row[0], row[1]) if row else None

    def person_named(self, name: str) -> PersonRow | None:
        """The person called ``name`` (case-insensitive, surrounding spaces ignored)."""
        row = self.conn.execute("SELECT id, name FROM people WHERE name = ?", (name.strip(),)).fetchone()
        return PersonRow(row[0], row[1]) if row else None

    # ------------------------------------------------------------------------------------ writes
    def new_person(self, name: str | None = None) -> int:
        with self.conn:
            cur = self.conn.execute("INSERT INTO people (name, created_at) VALUES (?, ?)", (name, time.time()))
        return int(cur.lastrowid or 0)

    def assign(self, face_ids: Sequence[int], person_id: int, *, pinned: bool = False) -> None:
        with self.conn:
            self.conn.executemany(
                "UPDATE faces SET person_id = ?, pinned = ? WHERE id = ?",
                [(int(person_id), int(pinned), int(i)) for i in face_ids],
            )

    def rename(self, person_id: int, name: str | None) -> None:
        try:
            with self.conn:
                self.conn.execute("UPDATE people SET name = ? WHERE id = ?", (name, int(person_id)))
        except sqlite3.IntegrityError:
            raise UsageError(f"another person is already called {name!r}: merge the two instead") from None

    def merge(self, keep: int, others: Sequence[int]) -> None:
        """Move every face of ``others`` to ``keep`` and delete them, in one transaction."""
        with self.conn:
            for other in others:
                self.conn.execute("UPDATE faces SET person_id = ? WHERE person_id = ?", (int(keep), int(other)))
                self.conn.execute("DELETE FROM people WHERE id = ?", (int(other),))

    def forget(self, person_id: int) -> int:
        """Delete the person and every descriptor of theirs; their images stay scanned (not re-detected)."""
        with self.conn:
            cur = self.conn.execute("DELETE FROM faces WHERE person_id = ?", (int(person_id),))
            self.conn.execute("DELETE FROM people WHERE id = ?", (int(person_id),))
        return cur.rowcount or 0

    def drop_empty_unnamed(self) -> int:
        """Unnamed people left without a live face (their photos changed or went away). Named ones stay."""
        with self.conn:
            cur = self.conn.execute(
                f"DELETE FROM people WHERE name IS NULL AND id NOT IN (SELECT f.person_id {_LIVE} "
                f"WHERE f.person_id IS NOT NULL)"
            )
        return cur.rowcount or 0
