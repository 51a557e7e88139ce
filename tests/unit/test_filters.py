"""Filters: one meaning, three translations (Python, SQL, Milvus) that must agree."""

from __future__ import annotations

import io
import sqlite3

import pytest
from PIL import Image

from clipaware.errors import UsageError
from clipaware.index.filters import Filters, parse_date, taken_at_from_bytes


def test_parse_date_completes_partial_dates_to_the_start_or_end_of_the_period() -> None:
    assert parse_date("2024") == "2024-01-01T00:00:00"
    assert parse_date("2024", end=True) == "2024-12-31T23:59:59"
    assert parse_date("2024-02", end=True) == "2024-02-29T23:59:59"
    assert parse_date("2024-05-01T12:30") == "2024-05-01T12:30:00"
    with pytest.raises(UsageError, match="bad date"):
        parse_date("yesterday")


@pytest.mark.parametrize("text", ["2024-13-45", "2024-02-30", "2023-02-29", "2024-04-31", "2024-05-01T25:00", "0000"])
def test_dates_that_do_not_exist_are_refused(text: str) -> None:
    with pytest.raises(UsageError, match=f"bad date '{text}'"):
        parse_date(text)


def test_a_partial_month_ends_on_its_real_last_day() -> None:
    assert parse_date("2023-02", end=True) == "2023-02-28T23:59:59"
    assert parse_date("2024-04", end=True) == "2024-04-30T23:59:59"


@pytest.mark.parametrize("option", ["min_width", "min_height", "max_width", "max_height"])
def test_pixel_bounds_beyond_any_image_are_a_usage_error_not_an_overflow(option: str) -> None:
    with pytest.raises(UsageError, match=f"--{option.replace('_', '-')} must be a pixel count"):
        Filters.build(**{option: 99999999999999999999})
    with pytest.raises(UsageError):
        Filters.build(**{option: -1})
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE images (path TEXT, width INTEGER, height INTEGER, mtime_ns INTEGER, taken_at TEXT)")
    where, params = Filters.build(**{option: 2**31 - 1}).sql()
    conn.execute(f"SELECT COUNT(*) FROM images WHERE {where}", params).fetchone()  # the largest one binds


def _jpeg(exif_date: str | None) -> bytes:
    img = Image.new("RGB", (8, 8), (200, 10, 10))
    buf = io.BytesIO()
    if exif_date is None:
        img.save(buf, "JPEG")
    else:
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = exif_date
        img.save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def test_taken_at_reads_exif_date_time_original() -> None:
    assert taken_at_from_bytes(_jpeg("2021:07:04 10:11:12")) == "2021-07-04T10:11:12"
    assert taken_at_from_bytes(_jpeg("1999:12:31 23:59:58")) == "1999-12-31T23:59:58"
    assert taken_at_from_bytes(_jpeg(None)) is None
    assert taken_at_from_bytes(_jpeg("0000:00:00 00:00:00")) is None
    assert taken_at_from_bytes(b"not an image") is None


ROWS = [
    ("/photos/2024/beach_day/a.jpg", 1_700_000_000 * 10**9, 4000, 3000, "2024-06-01T10:00:00"),
    ("/photos/2024/beach_day/b.png", 1_600_000_000 * 10**9, 640, 480, None),
    ("/photos/2023/city/c.jpg", 1_500_000_000 * 10**9, None, None, "2023-01-15T08:00:00"),
    ("/photos/2023/cityscape/d.jpg", 1_710_000_000 * 10**9, 1920, 1080, "2023-12-31T23:00:00"),
    ("/other/e.JPG", 1_720_000_000 * 10**9, 800, 800, "2024-12-31T23:59:59"),
]

CASES = [
    Filters(),
    Filters.build(path_glob="*.jpg"),
    Filters.build(path_glob="*/2024/*"),
    Filters.build(folder="/photos/2023/city"),  # not cityscape
    Filters.build(folder="/photos/2024/beach_day"),
    Filters.build(taken_after="2024"),
    Filters.build(taken_before="2023"),
    Filters.build(taken_after="2023-06", taken_before="2024-06-01"),
    Filters.build(modified_after="2023-11-01"),
    Filters.build(modified_before="2020-09-14"),
    Filters.build(min_width=1000),
    Filters.build(min_width=700, min_height=700),
    Filters(max_width=1000),
    Filters.build(path_glob="/photos/*", min_width=100, taken_after="2020"),
]


@pytest.mark.parametrize("filters", CASES, ids=lambda f: str(f.to_dict()) or "none")
def test_sql_and_python_agree(filters: Filters) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE images (id INTEGER PRIMARY KEY, path, mtime_ns, width, height, taken_at)")
    conn.executemany("INSERT INTO images (path, mtime_ns, width, height, taken_at) VALUES (?,?,?,?,?)", ROWS)
    where, params = filters.sql()
    in_sql = {r[0] for r in conn.execute(f"SELECT path FROM images WHERE {where}", params)}
    in_python = {p for p, m, w, h, t in ROWS if filters.matches(p, mtime_ns=m, width=w, height=h, taken_at=t)}
    assert in_sql == in_python


def test_filters_select_what_they_say() -> None:
    def passing(f: Filters) -> set[str]:
        return {
            p.rsplit("/", 1)[-1] for p, m, w, h, t in ROWS if f.matches(p, mtime_ns=m, width=w, height=h, taken_at=t)
        }

    assert passing(Filters.build(folder="/photos/2023/city")) == {"c.jpg"}
    assert passing(Filters.build(taken_after="2024")) == {"a.jpg", "e.JPG"}
    assert passing(Filters.build(path_glob="*.jpg")) == {"a.jpg", "c.jpg", "d.jpg"}
    assert passing(Filters(max_width=1000)) == {"b.png", "e.JPG"}  # unknown size never passes a size bound
    assert Filters().empty and not Filters(min_width=1).empty


def test_milvus_expression_narrows_and_flags_what_it_cannot_say_exactly() -> None:
    expr, post = Filters.build(path_glob="/photos/*/a.jpg").milvus_expr()
    assert expr == 'path like "/photos/%"' and post
    expr, post = Filters.build(folder="/photos/2023/city").milvus_expr()
    assert expr == 'path like "/photos/2023/city/%"' and not post
    _, post = Filters.build(folder="/photos/2024/beach_day").milvus_expr()
    assert post  # "_" is a Milvus wildcard: checked again in Python
    expr, _ = Filters(min_width=10, max_height=20, taken_before="2024-01-01T00:00:00").milvus_expr()
    assert "width >= 10" in expr and "height <= 20 and height >= 0" in expr and 'taken_at != ""' in expr
    assert Filters().milvus_expr() == ("", False)
