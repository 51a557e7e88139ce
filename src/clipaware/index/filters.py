"""Search filters: which images a vector search may return (path glob, folder, date taken, mtime, size).

A filter is data, not code: one frozen :class:`Filters` that each store translates into its own
language (an SQL ``WHERE`` for SQLite, a boolean expression for Milvus) and that can also be checked
in Python against one row (:meth:`Filters.matches`), which is how tests and post-filters agree with the
database. Dates taken come from EXIF ``DateTimeOriginal`` and are kept as ISO text
(``YYYY-MM-DDTHH:MM:SS``): EXIF has no time zone, so comparing wall-clock text is the honest thing.
"""

from __future__ import annotations

import calendar
import fnmatch
import io
import os
import re
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path

from clipaware.errors import UsageError

_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_DATETIME = 0x0132
_EXIF_DATE = re.compile(r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")


def taken_at_from_bytes(data: bytes) -> str | None:
    """EXIF ``DateTimeOriginal`` (else ``DateTime``) as ``YYYY-MM-DDTHH:MM:SS``; ``None`` when absent.

    Only the header is parsed (Pillow opens lazily), so this costs far less than decoding pixels.
    """
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            exif = img.getexif()
            raw = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    except Exception:  # a file whose EXIF is broken still has pixels worth indexing
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "replace")
    match = _EXIF_DATE.match(str(raw or "").strip())
    if not match:
        return None
    y, mo, d, h, mi, s = match.groups()
    if y == "0000":
        return None
    return f"{y}-{mo}-{d}T{h}:{mi}:{s}"


MAX_SIDE = 2**31 - 1  # far beyond any image side (Pillow refuses ~179 megapixels), far below SQLite's limit


def parse_date(text: str, *, end: bool = False) -> str:
    """``2024``, ``2024-05``, ``2024-05-01`` or ``2024-05-01T12:30[:00]`` → full ISO wall-clock text.

    With ``end``, a partial date means its last second (``--taken-before 2024`` includes all of 2024).
    """
    text = text.strip()
    m = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?)?)?", text)
    if not m:
        raise UsageError(f"bad date {text!r}: use YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]")
    y, mo, d, h, mi, s = m.groups()
    year, month = int(y), int(mo or (12 if end else 1))
    if not 1 <= month <= 12:
        raise UsageError(f"bad date {text!r}: there is no month {month}")
    if d is None:  # a partial date: its first day, or with ``end`` its real last one (2023-02 → the 28th)
        d = f"{calendar.monthrange(year, month)[1] if end else 1:02d}" if year >= 1 else "01"
    if end:
        h, mi, s = h or "23", mi or "59", s or "59"
    else:
        h, mi, s = h or "00", mi or "00", s or "00"
    try:
        datetime(year, month, int(d), int(h), int(mi), int(s))  # 2024-02-30 or 25:00 are no dates
    except ValueError as exc:
        raise UsageError(f"bad date {text!r}: {exc}") from None
    return f"{y}-{month:02d}-{d}T{h}:{mi}:{s}"


def _to_epoch_ns(iso: str) -> int:
    """Local wall-clock ISO text → epoch nanoseconds (file mtimes are in the machine's clock)."""
    try:
        return int(datetime.fromisoformat(iso).timestamp() * 1e9)
    except ValueError:  # e.g. Feb 30 produced by a loose ``end`` bound: clamp to the month's real end
        y, mo = int(iso[:4]), int(iso[5:7])
        for day in (30, 29, 28):
            try:
                return int(datetime(y, mo, day, 23, 59, 59).timestamp() * 1e9)
            except ValueError:
                continue
        raise


@dataclass(frozen=True)
class Filters:
    """What a search may return. Every field is optional; all given ones must hold (AND).

    ``path_glob`` is matched against the full absolute path with shell rules where ``*`` also crosses
    folders (``*.png``, ``*/2024/*``). ``folder`` keeps files under that folder, recursively. Dates are
    ISO wall-clock text (see :func:`parse_date`); sizes are in pixels.
    """

    path_glob: str | None = None
    folder: str | None = None
    taken_after: str | None = None
    taken_before: str | None = None
    modified_after: str | None = None
    modified_before: str | None = None
    min_width: int | None = None
    min_height: int | None = None
    max_width: int | None = None
    max_height: int | None = None

    @classmethod
    def build(
        cls,
        *,
        path_glob: str | None = None,
        folder: str | Path | None = None,
        taken_after: str | None = None,
        taken_before: str | None = None,
        modified_after: str | None = None,
        modified_before: str | None = None,
        min_width: int | None = None,
        min_height: int | None = None,
        max_width: int | None = None,
        max_height: int | None = None,
    ) -> Filters:
        """Normalise user input: resolve the folder, complete partial dates, reject nonsense early."""
        for name, value in (
            ("min_width", min_width),
            ("min_height", min_height),
            ("max_width", max_width),
            ("max_height", max_height),
        ):
            if value is not None and not 0 <= value <= MAX_SIDE:  # SQLite integers end at 2**63: say so first
                option = "--" + name.replace("_", "-")
                raise UsageError(f"{option} must be a pixel count from 0 to {MAX_SIDE:,}, not {value}")
        return cls(
            path_glob=path_glob or None,
            folder=str(Path(folder).expanduser().resolve()) if folder else None,
            taken_after=parse_date(taken_after) if taken_after else None,
            taken_before=parse_date(taken_before, end=True) if taken_before else None,
            modified_after=parse_date(modified_after) if modified_after else None,
            modified_before=parse_date(modified_before, end=True) if modified_before else None,
            min_width=min_width,
            min_height=min_height,
            max_width=max_width,
            max_height=max_height,
        )

    @property
    def empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))  # asdict() costs ~5 µs per search

    def to_dict(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    # ------------------------------------------------------------------------------------ in Python
    def matches(
        self,
        path: str,
        *,
        mtime_ns: int,
        width: int | None,
        height: int | None,
        taken_at: str | None,
    ) -> bool:
        """The reference semantics every store's translation must agree with."""
        if self.path_glob and not fnmatch.fnmatchcase(path, self.path_glob):
            return False
        if self.folder and not path.startswith(self.folder.rstrip(os.sep) + os.sep):
            return False
        if self.taken_after and (taken_at is None or taken_at < self.taken_after):
            return False
        if self.taken_before and (taken_at is None or taken_at > self.taken_before):
            return False
        if self.modified_after and mtime_ns < _to_epoch_ns(self.modified_after):
            return False
        if self.modified_before and mtime_ns > _to_epoch_ns(self.modified_before):
            return False
        for bound, value, low in (
            (self.min_width, width, True),
            (self.min_height, height, True),
            (self.max_width, width, False),
            (self.max_height, height, False),
        ):
            if bound is not None and (value is None or (value < bound if low else value > bound)):
                return False
        return True

    # ------------------------------------------------------------------------------------------ SQL
    def sql(self) -> tuple[str, list[object]]:
        """An SQLite ``WHERE`` clause (``"1"`` when empty) and its parameters, for the ``images`` table.

        SQLite's ``GLOB`` has the same rules as :func:`fnmatch.fnmatchcase` (case-sensitive, ``*`` crosses
        ``/``); the folder becomes a range on the indexed ``path`` column instead of a slow ``LIKE``.
        """
        parts: list[str] = []
        params: list[object] = []
        if self.path_glob:
            parts.append("path GLOB ?")
            params.append(self.path_glob)
        if self.folder:
            prefix = self.folder.rstrip(os.sep) + os.sep
            parts.append("path >= ? AND path < ?")
            params += [prefix, prefix[:-1] + chr(ord(os.sep) + 1)]
        if self.taken_after:
            parts.append("taken_at >= ?")
            params.append(self.taken_after)
        if self.taken_before:
            parts.append("taken_at <= ?")
            params.append(self.taken_before)
        if self.modified_after:
            parts.append("mtime_ns >= ?")
            params.append(_to_epoch_ns(self.modified_after))
        if self.modified_before:
            parts.append("mtime_ns <= ?")
            params.append(_to_epoch_ns(self.modified_before))
        for column, op, bound in (
            ("width", ">=", self.min_width),
            ("height", ">=", self.min_height),
            ("width", "<=", self.max_width),
            ("height", "<=", self.max_height),
        ):
            if bound is not None:
                parts.append(f"{column} {op} ?")
                params.append(int(bound))
        return (" AND ".join(parts) or "1"), params

    # --------------------------------------------------------------------------------------- Milvus
    def milvus_expr(self) -> tuple[str, bool]:
        """A Milvus boolean expression, and whether a Python post-filter is still needed.

        Milvus ``like`` knows only ``%``/``_`` wildcards and no escapes, so a glob is narrowed to its
        literal prefix there and checked exactly in Python afterwards (the store over-fetches to keep
        recall).
        """
        parts: list[str] = []
        post = False

        def quote(text: str) -> str:
            return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

        def like_prefix(prefix: str) -> str:
            # Milvus ``like`` has no escapes: ``_`` and ``%`` in a path stay wildcards, which matches a
            # superset, so such a prefix is checked exactly in Python afterwards.
            nonlocal post
            post = post or "_" in prefix or "%" in prefix
            return f"path like {quote(prefix + '%')}"

        if self.path_glob:
            literal = re.split(r"[*?\[]", self.path_glob, maxsplit=1)[0]
            if literal:
                parts.append(like_prefix(literal))
            post = True
        if self.folder:
            parts.append(like_prefix(self.folder.rstrip(os.sep) + os.sep))
        if self.taken_after:
            parts.append(f"taken_at >= {quote(self.taken_after)}")
        if self.taken_before:
            parts.append(f'taken_at != "" and taken_at <= {quote(self.taken_before)}')  # "" = unknown
        if self.modified_after:
            parts.append(f"mtime_ns >= {_to_epoch_ns(self.modified_after)}")
        if self.modified_before:
            parts.append(f"mtime_ns <= {_to_epoch_ns(self.modified_before)}")
        for column, op, bound in (
            ("width", ">=", self.min_width),
            ("height", ">=", self.min_height),
            ("width", "<=", self.max_width),
            ("height", "<=", self.max_height),
        ):
            if bound is not None:  # -1 = unknown size, which no size bound admits
                parts.append(f"{column} {op} {int(bound)}" + ("" if op == ">=" else f" and {column} >= 0"))
        return " and ".join(parts), post
