"""The HTTP API answers with the CLI's --json shapes, from one warm library."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.e2e.service.conftest import cli

from clipaware.service.catalog import image_id


def without_ids(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "id"} for row in rows]


def same_hits(api: list[dict], cli_rows: list[dict]) -> bool:
    """The CLI's rows exactly (keys, paths, order), each with its id; scores to 1e-3 (the float16 bound the
    README gives), because the server holds the index's float16 vectors in memory (the store's long-lived
    mode) where the one-shot CLI re-normalises each row as it streams them from the database."""
    assert all(hit["id"] == image_id(hit["path"]) for hit in api)
    plain = without_ids(api)
    assert [sorted(h) for h in plain] == [sorted(h) for h in cli_rows]
    assert [h["path"] for h in plain] == [h["path"] for h in cli_rows]
    assert [h["score"] for h in plain] == pytest.approx([h["score"] for h in cli_rows], abs=1e-3)
    return True


def db_of(folder: Path) -> Path:
    return folder / ".clipaware.db"


def test_health_status_and_docs(client, served_folder: Path) -> None:
    assert client.get("/api/health").json()["status"] == "ok"
    status = client.get("/api/status").json()
    assert status["images"] == 6 and status["db"] == str(db_of(served_folder))
    assert status["roots"] == [str(served_folder.resolve())]
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/search", "/api/similar", "/api/ask", "/api/check", "/api/duplicates", "/api/index"} <= set(paths)


@pytest.mark.parametrize("query", ["two dogs left of a cat", "a beach at sunset", "a street without cars"])
def test_check_is_the_cli_shape(client, query: str) -> None:
    code, out = cli("check", query, "--json")
    assert code == 0
    assert client.get("/api/check", params={"q": query}).json() == json.loads(out)


def test_an_empty_check_is_refused_like_the_cli(client) -> None:
    assert cli("check", "  ", "--json")[0] == 2
    response = client.get("/api/check", params={"q": "  "})
    assert response.status_code == 400 and "the query is empty" in response.json()["detail"]


def test_text_search_equals_the_cli(client, served_folder: Path) -> None:
    body = client.post("/api/search", json={"text": "a photo of a cat.", "k": 4}).json()
    code, out = cli("search", "a photo of a cat.", "-k", "4", "--db", db_of(served_folder), "--json")
    assert code == 0 and same_hits(body, json.loads(out))

    pngs = client.post("/api/search", json={"text": "a photo", "k": 10, "glob": "*.png"}).json()
    code, out = cli("search", "a photo", "--glob", "*.png", "--db", db_of(served_folder), "--json")
    assert same_hits(pngs, json.loads(out)) and {Path(h["path"]).suffix for h in pngs} == {".png"}

    folder = client.post("/api/search", json={"text": "a photo", "folder": str(served_folder / "sub")}).json()
    assert {Path(h["path"]).name for h in folder} == {"chelsea.png", "camera.png"}


def test_routed_search_equals_the_cli(client, served_folder: Path) -> None:
    body = client.post("/api/search", json={"text": "a photo of a cat.", "k": 3, "routed": True}).json()
    code, out = cli("search", "a photo of a cat.", "-k", "3", "--routed", "--db", db_of(served_folder), "--json")
    assert code == 0
    expected = json.loads(out)
    assert same_hits(body.pop("hits"), expected.pop("hits")) and body == expected


def test_similar_by_id_equals_the_cli(client, served_folder: Path) -> None:
    coffee = served_folder / "coffee.jpg"
    body = client.post("/api/similar", json={"id": image_id(str(coffee)), "k": 3}).json()
    code, out = cli("similar", coffee, "-k", "3", "--db", db_of(served_folder), "--json")
    assert code == 0 and same_hits(body, json.loads(out))
    assert str(coffee) not in [h["path"] for h in body]


def test_uploaded_image_searches_like_the_cli_image_search(client, served_folder: Path) -> None:
    coffee = served_folder / "coffee.jpg"
    response = client.post("/api/search/image", params={"k": 6}, content=coffee.read_bytes())
    assert response.status_code == 200
    code, out = cli("search", "--image", coffee, "-k", "6", "--db", db_of(served_folder), "--json")
    assert code == 0
    # the CLI reuses the stored (float16) vector of an indexed file; the upload is embedded afresh
    uploaded = {hit["path"]: hit["score"] for hit in response.json()}
    assert uploaded == pytest.approx({hit["path"]: hit["score"] for hit in json.loads(out)}, abs=2e-3)
    assert uploaded[str(coffee)] == pytest.approx(1.0, abs=2e-3)


def test_ask_upload_and_indexed_give_the_cli_answer(client, served_folder: Path, tiny_clip_dir: Path) -> None:
    image = served_folder / "sub" / "chelsea.png"
    query = "a photo of a cat"
    indexed = client.post("/api/ask", json={"id": image_id(str(image)), "query": query}).json()
    code, out = cli("ask", image, query, "--model", tiny_clip_dir, "--json")
    assert code == 0 and indexed == json.loads(out)
    uploaded = client.post("/api/ask/image", params={"query": query}, content=image.read_bytes()).json()
    assert uploaded["image"] == "<image>"
    assert {**uploaded, "image": indexed["image"]} == indexed


def test_classify_equals_the_cli(client, served_folder: Path, tiny_clip_dir: Path) -> None:
    paths = [served_folder / "coffee.jpg", served_folder / "sub" / "chelsea.png"]
    body = client.post("/api/classify", json={"ids": [image_id(str(p)) for p in paths], "labels": "cat,coffee"}).json()
    code, out = cli("classify", *paths, "--labels", "cat,coffee", "--model", tiny_clip_dir, "--json")
    assert code == 0 and body == json.loads(out)
    upload = client.post("/api/classify/image", params={"labels": "cat,coffee"}, content=paths[0].read_bytes())
    assert upload.json()[0]["scores"] == pytest.approx(body[0]["scores"], abs=1e-5)


def test_duplicates_equal_the_cli(client, served_folder: Path) -> None:
    body = client.get("/api/duplicates", params={"threshold": 0.9}).json()
    code, out = cli("duplicates", "--threshold", "0.9", "--db", db_of(served_folder), "--json")
    assert code == 0
    assert [{k: v for k, v in g.items() if k != "ids"} for g in body] == json.loads(out)
    assert any(str(served_folder / "coffee-small.png") in g["paths"] for g in body)
    assert all(g["ids"] == [image_id(p) for p in g["paths"]] for g in body)


def test_thumbnails_are_made_once_and_cached(client, served_folder: Path) -> None:
    ident = image_id(str(served_folder / "astronaut.jpg"))
    first = client.get(f"/api/images/{ident}/thumbnail")
    assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
    thumb = Image.open(io.BytesIO(first.content))
    assert max(thumb.size) == 256
    cache = served_folder / ".clipaware.db.thumbnails"
    cached = list(cache.rglob("*.jpg"))
    assert len(cached) == 1 and cached[0].read_bytes() == first.content
    stamp = cached[0].stat().st_mtime_ns
    assert client.get(f"/api/images/{ident}/thumbnail").content == first.content
    assert cached[0].stat().st_mtime_ns == stamp  # served from the cache, not made again


def test_original_files_and_formats_browsers_cannot_show(client, served_folder: Path) -> None:
    jpg = client.get(f"/api/images/{image_id(str(served_folder / 'coffee.jpg'))}/file")
    assert jpg.headers["content-type"] == "image/jpeg"
    assert jpg.content == (served_folder / "coffee.jpg").read_bytes()
    ppm = client.get(f"/api/images/{image_id(str(served_folder / 'rocket.ppm'))}/file")
    assert ppm.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(ppm.content)).size == Image.open(served_folder / "rocket.ppm").size


def test_an_index_run_adds_new_files_and_reports_progress(client, served_folder: Path) -> None:
    from skimage import data

    Image.fromarray(data.horse().astype(np.uint8) * 255).convert("RGB").save(served_folder / "horse.png")
    started = client.post("/api/index")
    assert started.status_code == 202 and started.json()["running"] is True
    deadline = time.monotonic() + 120
    while (state := client.get("/api/index").json())["running"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert state["error"] is None and state["report"]["added"] == 1 and state["done"] == state["total"] == 1
    assert {s["path"] for s in state["report"]["skipped"]} == {str(served_folder / "broken.jpg")}
    assert client.get("/api/status").json()["images"] == 7
    horse = image_id(str(served_folder / "horse.png"))
    assert client.get(f"/api/images/{horse}/thumbnail").status_code == 200
    hits = client.post("/api/similar", json={"id": horse, "k": 10}).json()
    assert len(hits) == 6


def test_waiting_texts_are_embedded_in_one_batch_with_the_same_vectors(library) -> None:
    from clipaware.service.work import WaitingTexts

    model = library.model
    texts = [f"a photo of a cat number {n}" for n in range(5)]
    alone = np.stack([model.encode_texts([t])[0] for t in texts])
    model.text_cache._items.clear()
    waiting = WaitingTexts()
    for text in texts:
        waiting.add(text)
    waiting.embed(model)
    assert all(model.text_cache.get(t) is not None for t in texts)
    np.testing.assert_allclose(np.stack([model.text_cache.get(t) for t in texts]), alone, atol=1e-5)
    waiting.embed(model)  # nothing waits any more: nothing to do


def test_concurrent_searches_answer_like_single_ones(client) -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"a {word} photo" for word in ("red", "blue", "green", "old", "new", "small", "large", "dark")]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(lambda t: client.post("/api/search", json={"text": t, "k": 3}).json(), texts))
    for text, hits in zip(texts, together, strict=True):
        single = client.post("/api/search", json={"text": text, "k": 3}).json()
        assert [h["path"] for h in hits] == [h["path"] for h in single]
        assert [h["score"] for h in hits] == pytest.approx([h["score"] for h in single], abs=1e-5)
