"""A photo library is private: tokens, hosts, ids instead of paths, roots, symlinks, limits, JSON errors."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from tests.e2e.service.conftest import cli, write_photos
from tests.helpers import crafted_png_bomb

from clipaware.errors import UsageError
from clipaware.service.catalog import image_id
from clipaware.service.security import check_bind

TOKEN = "s3cret-token.123"


def is_error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"} and "Traceback" not in body["detail"]
    return body


def make_client(library, **options):
    from fastapi.testclient import TestClient

    from clipaware.service import create_app

    return TestClient(create_app(library, **options), base_url="http://127.0.0.1")


# --------------------------------------------------------------------------------------------- binding
def test_listening_beyond_loopback_needs_a_token() -> None:
    for host in ("127.0.0.1", "localhost", "::1"):
        check_bind(host, None)
    with pytest.raises(UsageError, match="without a token"):
        check_bind("0.0.0.0", None)
    check_bind("0.0.0.0", TOKEN)


# ----------------------------------------------------------------------------------------------- token
@pytest.fixture(scope="module")
def locked(library, served_folder: Path) -> Iterator[object]:
    with make_client(library, roots=[served_folder], token=TOKEN) as client:
        yield client


@pytest.mark.parametrize(
    "method,path",
    [("GET", "/api/status"), ("GET", "/api/check?q=cat"), ("POST", "/api/search"), ("GET", "/"),
     ("GET", "/docs"), ("GET", "/openapi.json"), ("GET", "/static/app.js"), ("GET", "/api/duplicates"),
     ("POST", "/api/index"), ("GET", "/api/people"), ("POST", "/api/people/photos")],
)  # fmt: skip
def test_every_route_but_health_needs_the_token(locked, method: str, path: str) -> None:
    assert is_error(locked.request(method, path), 401)["detail"].startswith("missing token")
    wrong = locked.request(method, path, headers={"Authorization": "Bearer s3cret-token.124"})
    assert is_error(wrong, 401)["detail"].startswith("wrong token")
    assert locked.request(method, path, headers={"Authorization": "Bearer"}).status_code == 401
    locked.cookies.set("clipaware_token", "nope")
    try:
        assert locked.request(method, path).status_code == 401
    finally:
        locked.cookies.clear()
    assert locked.get("/api/health").status_code == 200


def test_the_right_token_opens_every_route(locked) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert locked.get("/api/status", headers=headers).status_code == 200
    assert locked.post("/api/search", json={"text": "a cat"}, headers=headers).status_code == 200


def test_the_page_swaps_a_url_token_for_a_strict_cookie(library, served_folder: Path) -> None:
    with make_client(library, roots=[served_folder], token=TOKEN) as client:
        assert client.get("/", params={"token": "wrong-token"}, follow_redirects=False).status_code == 401
        opened = client.get("/", params={"token": TOKEN}, follow_redirects=False)
        assert opened.status_code == 303 and opened.headers["location"] == "/"
        cookie = opened.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert client.get("/").status_code == 200  # the cookie now stands for the token
        assert client.get("/api/status").json()["images"] >= 6


def test_a_malformed_token_option_is_refused(library) -> None:
    from clipaware.service import create_app

    with pytest.raises(UsageError):
        create_app(library, token="short")
    with pytest.raises(UsageError):
        create_app(library, token="has spaces and ; semicolons")


def test_without_a_token_only_local_host_names_are_answered(client) -> None:
    is_error(client.get("/api/status", headers={"Host": "evil.example"}), 421)
    is_error(client.get("/", headers={"Host": "127.0.0.1.evil.example:8765"}), 421)
    assert client.get("/api/status", headers={"Host": "localhost:8765"}).status_code == 200
    assert client.get("/api/status", headers={"Host": "[::1]:8765"}).status_code == 200


def test_no_cross_origin_access_is_granted(client) -> None:
    response = client.get("/api/status", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers
    preflight = client.options(
        "/api/search", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers


# ---------------------------------------------------------------------------------- paths never travel in
TRAVERSALS = [
    "/api/images/../../../../etc/passwd/file",
    "/api/images/..%2F..%2F..%2Fetc%2Fpasswd/file",
    "/api/images/%2e%2e%2f%2e%2e%2fetc%2fpasswd/thumbnail",
    "/api/images/%2Fetc%2Fpasswd/file",
    "/api/images//etc/passwd/file",
    "/api/images/etc%00passwd/file",
    "/api/images/0123456789abcdef/file",
    "/api/images/0123456789ABCDEF/thumbnail",
    "/static/../../../../etc/passwd",
    "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/..%2f..%2f..%2fetc%2fpasswd",
    "/static//etc/passwd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_in_urls_finds_nothing(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (400, 404), response.text
    assert b"root:" not in response.content


@pytest.mark.parametrize(
    "ident", ["/etc/passwd", "../../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "astronaut.jpg", "", "0" * 64]
)
def test_ids_in_bodies_are_never_paths(client, served_folder: Path, ident: str) -> None:
    is_error(client.post("/api/similar", json={"id": ident}), 404)
    is_error(client.post("/api/ask", json={"id": ident, "query": "how many cats?"}), 404)
    is_error(client.post("/api/classify", json={"ids": [ident], "labels": "a,b"}), 404)


def test_a_relative_folder_filter_is_refused(client) -> None:
    is_error(client.post("/api/search", json={"text": "cat", "folder": "../.."}), 400)


@pytest.fixture()
def guarded(tmp_path: Path, tiny_clip_dir: Path) -> Iterator[tuple[object, Path, Path]]:
    """An indexed root holding a symlink to a photo outside it, a real sub-folder, and regular photos."""
    from clipaware.library import Library

    outside = tmp_path / "private"
    (outside / "inner").mkdir(parents=True)
    Image.new("RGB", (64, 64), (200, 10, 10)).save(outside / "secret.png")
    Image.new("RGB", (64, 64), (10, 200, 10)).save(outside / "inner" / "secret2.png")
    root = write_photos(tmp_path / "photos")
    os.symlink(outside / "secret.png", root / "link.png")
    (root / "album").mkdir()
    Image.new("RGB", (64, 64), (10, 10, 200)).save(root / "album" / "secret2.png")
    assert cli("index", root, "--model", tiny_clip_dir, "--json")[0] == 0
    library = Library.open(root / ".clipaware.db")
    yield library, root, outside
    library.close()


def test_symlinks_out_of_a_root_are_refused(guarded) -> None:
    library, root, outside = guarded
    before = {p: p.stat().st_mtime_ns for p in outside.rglob("*")}
    indexed = set(library.store.files())
    assert {str(root / "link.png"), str(root / "album" / "secret2.png")} <= indexed
    # since indexing: a folder on the way replaced by a link out of the root, a photo replaced by a link
    shutil.rmtree(root / "album")
    os.symlink(outside / "inner", root / "album")
    (root / "coffee.jpg").unlink()
    os.symlink(outside / "secret.png", root / "coffee.jpg")
    with make_client(library, roots=[root]) as client:
        for name in ("link.png", "album/secret2.png", "coffee.jpg"):
            ident = image_id(str(root / name))
            for route in ("file", "thumbnail"):
                is_error(client.get(f"/api/images/{ident}/{route}"), 403)
            is_error(client.post("/api/similar", json={"id": ident}), 403)
            is_error(client.post("/api/ask", json={"id": ident, "query": "a red square"}), 403)
            is_error(client.post("/api/classify", json={"ids": [ident], "labels": "red,green"}), 403)
        assert client.get(f"/api/images/{image_id(str(root / 'astronaut.jpg'))}/file").status_code == 200
    assert {p: p.stat().st_mtime_ns for p in outside.rglob("*")} == before  # nothing written outside the roots


def test_indexed_files_outside_the_served_roots_are_refused(guarded) -> None:
    library, root, _ = guarded
    with make_client(library, roots=[root / "sub"]) as client:
        is_error(client.get(f"/api/images/{image_id(str(root / 'astronaut.jpg'))}/thumbnail"), 403)
        assert client.get(f"/api/images/{image_id(str(root / 'sub' / 'chelsea.png'))}/thumbnail").status_code == 200
        gone = root / "sub" / "camera.png"
        gone.unlink()
        is_error(client.get(f"/api/images/{image_id(str(gone))}/file"), 404)
    shutil.rmtree(root / ".clipaware.db.thumbnails")


# ---------------------------------------------------------------------------------------------- uploads
def _truncated_jpeg() -> bytes:
    import io

    import numpy as np

    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buffer, "JPEG")
    return buffer.getvalue()[: buffer.tell() // 2]


TRUNCATED = _truncated_jpeg()


def test_oversize_uploads_are_refused(library, served_folder: Path) -> None:
    with make_client(library, roots=[served_folder], max_upload=10_000) as client:
        big = b"\xff" * 10_001
        is_error(client.post("/api/search/image", content=big), 413)

        def chunks():  # no Content-Length: the limit holds while the body streams in
            for _ in range(20):
                yield b"\0" * 1000

        is_error(client.post("/api/ask/image", params={"query": "a cat"}, content=chunks()), 413)
        small = (served_folder / "coffee-small.png").read_bytes()
        assert len(small) > 10_000 or client.post("/api/search/image", content=small).status_code == 200


@pytest.mark.parametrize(
    "body,reason",
    [(crafted_png_bomb(), "decompression bomb"), (TRUNCATED, "truncated"), (b"hello", "not an image"),
     (b"", "empty")],
)  # fmt: skip
def test_bad_uploads_get_a_clear_400(client, body: bytes, reason: str) -> None:
    for path, params in (("/api/search/image", {}), ("/api/ask/image", {"query": "a cat"}),
                         ("/api/classify/image", {"labels": "a,b"})):  # fmt: skip
        assert reason in is_error(client.post(path, params=params, content=body), 400)["detail"]


# ------------------------------------------------------------------------------------ requests themselves
def test_malformed_json_and_wrong_fields(client) -> None:
    bad = client.post("/api/search", content=b'{"text": "cat",', headers={"content-type": "application/json"})
    assert is_error(bad, 400)["error"] == "malformed JSON"
    is_error(client.post("/api/search", json={"text": 3}), 422)
    is_error(client.post("/api/search", json={"text": "cat", "k": 0}), 422)
    is_error(client.post("/api/search", json={"text": "cat", "k": 10**9}), 422)
    is_error(client.post("/api/search", json={"text": "cat", "path": "/etc/passwd"}), 422)  # unknown field
    is_error(client.post("/api/search", json={"text": "cat", "detector": "/tmp/my-model"}), 400)
    is_error(client.post("/api/search", json={"text": "   "}), 400)
    is_error(client.post("/api/search", json=["cat"]), 422)
    is_error(client.get("/api/duplicates", params={"threshold": 2}), 422)
    is_error(client.get("/api/nothing-here"), 404)
    is_error(client.delete("/api/search"), 405)


def test_huge_query_text_and_bodies(client) -> None:
    detail = is_error(client.post("/api/search", json={"text": "cat " * 300}), 422)["detail"]
    assert "cat cat" not in detail  # the input is not echoed back
    is_error(client.get("/api/check", params={"q": "x" * 1001}), 422)
    is_error(client.post("/api/ask/image", params={"query": "q" * 5000}, content=b"x"), 422)
    is_error(client.post("/api/search", json={"text": "cat", "glob": "*" * 70_000}), 413)  # over the JSON body limit


def test_a_full_model_queue_answers_503_with_retry_after(library, served_folder: Path) -> None:
    import threading

    with make_client(library, roots=[served_folder], model_queue=1) as client:
        service = client.app.state.service
        release = threading.Event()
        holder = threading.Thread(target=lambda: client.portal.call(service.model_queue.run, release.wait, 30))
        holder.start()
        try:
            deadline = 0
            while service.model_queue.admitted == 0 and deadline < 500:
                threading.Event().wait(0.01)
                deadline += 1
            busy = client.post("/api/search", json={"text": "a cat"})
            assert is_error(busy, 503)["error"] == "busy" and busy.headers["retry-after"] == "1"
        finally:
            release.set()
            holder.join()
        assert client.post("/api/search", json={"text": "a cat"}).status_code == 200


def test_serve_refuses_a_public_address_without_a_token(served_folder: Path, capsys) -> None:
    code, _ = cli("serve", "--db", served_folder / ".clipaware.db", "--host", "0.0.0.0")
    assert code == 2 and "without a token" in capsys.readouterr().err
    code, _ = cli("serve", "--db", served_folder / ".clipaware.db", "--root", served_folder / "nowhere")
    assert code == 2 and "not a folder" in capsys.readouterr().err
