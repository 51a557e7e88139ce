"""The page in a real browser: Playwright drives Debian's chromium against a real `clipaware serve` process.

Skipped, with the reason, where chromium or the playwright package is missing (CI installs both: .ci/run).
Screenshots go to test-artifacts/browser/ (or $CLIPAWARE_TEST_ARTIFACTS).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.e2e.service.conftest import cli, write_photos

CHROMIUM = Path(os.environ.get("CLIPAWARE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = Path(os.environ.get("CLIPAWARE_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "browser"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM} (apt-get install chromium)"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A `clipaware serve` subprocess: started, waited for, stopped with SIGTERM (which must be clean)."""

    def __init__(self, *args: object, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = ARTIFACTS.parent / f"serve-{self.port}.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        full_env = {**os.environ, **(env or {}), "PYTHONPATH": os.pathsep.join(sys.path)}
        full_env.pop("CLIPAWARE_DB", None)
        self._out = self.log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "clipaware.cli", "serve", "--port", str(self.port), *map(str, args)],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env=full_env,
        )
        deadline = time.monotonic() + 180
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"clipaware serve exited: {self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "api/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.2)

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(60)
        finally:
            self._out.close()
        return code


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Page:
    """A page plus every console error, uncaught exception and request to another host (the tests require none).

    Requests that leave the server are refused and recorded: the page must work offline (no CDN).
    """

    def __init__(self, browser: object, url: str, **context: object) -> None:
        self.context = browser.new_context(**context)  # type: ignore[attr-defined]
        self.errors: list[str] = []
        self.outside: list[str] = []
        origin = url.split("/", 3)[:3]

        def only_this_server(route: object) -> None:
            request_url = route.request.url  # type: ignore[attr-defined]
            if request_url.split("/", 3)[:3] == origin or request_url.startswith("data:"):
                route.continue_()  # type: ignore[attr-defined]
            else:
                self.outside.append(request_url)
                route.abort()  # type: ignore[attr-defined]

        self.context.route("**/*", only_this_server)
        self.page = self.context.new_page()
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto(url)

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()
        assert self.errors == []
        assert self.outside == []


@pytest.fixture(scope="module")
def library_server(tmp_path_factory: pytest.TempPathFactory, tiny_clip_dir: Path) -> Iterator[tuple[Server, Path]]:
    root = write_photos(tmp_path_factory.mktemp("browse") / "photos")
    assert cli("index", root, "--model", tiny_clip_dir, "--json")[0] == 0
    server = Server("--db", root / ".clipaware.db", "--detector", "shapes")  # no hub here: DETR cannot load
    yield server, root
    assert server.stop() == 0  # SIGTERM: a clean stop


def test_type_a_query_and_see_results(browser, library_server) -> None:
    server, _ = library_server
    view = Page(browser, server.url, viewport={"width": 1100, "height": 800})
    page = view.page
    page.fill("#q", "a photo of a cat")
    page.wait_for_selector("[data-verdict=ok][data-query='a photo of a cat']")
    page.press("#q", "Enter")
    page.wait_for_selector("#results li")
    assert page.locator("#results li").count() == 6
    page.wait_for_function("[...document.querySelectorAll('#results img')].every(i => i.complete && i.naturalWidth)")
    scores = page.locator("#results .score").all_inner_texts()
    assert all(s.startswith("score ") for s in scores)
    view.shot("search-results")
    view.close()


def test_the_verdict_marks_the_words_that_need_more_than_clip(browser, library_server) -> None:
    server, _ = library_server
    view = Page(browser, server.url, viewport={"width": 1100, "height": 800})
    page = view.page
    page.type("#q", "two dogs left of a cat", delay=10)  # the verdict follows each keystroke
    page.wait_for_selector("[data-verdict=limited][data-query='two dogs left of a cat']")
    marks = page.locator("#verdict mark")
    assert dict(zip(marks.all_inner_texts(), [m.get_attribute("data-kind") for m in marks.all()], strict=True)) == {
        "two dogs": "counting",
        "left of a cat": "spatial",
    }
    assert page.locator("#verdict li[data-kind=counting]").count() == 1
    assert page.locator("#verdict li[data-kind=spatial]").count() == 1
    page.click("#routed")
    page.wait_for_function("document.querySelector('#search-note').textContent.includes('candidates pass')")
    view.shot("verdict")
    view.close()


def test_readable_at_360px_and_usable_by_keyboard(browser, library_server) -> None:
    server, _ = library_server
    view = Page(browser, server.url, viewport={"width": 360, "height": 740})
    page = view.page
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("a cup of coffee")
    page.keyboard.press("Enter")
    page.wait_for_selector("#results li")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.focus("#results li button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#viewer:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "ask-q"
    view.shot("narrow-viewer")
    page.keyboard.press("Escape")
    page.wait_for_selector("#viewer", state="hidden")
    page.click(".tab[data-view=duplicates]")
    page.click("#dup-form button")
    page.wait_for_selector(".group")
    assert "coffee-small.png" in page.inner_text("#groups")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    view.shot("narrow-duplicates")
    view.close()


def test_follow_an_index_run_to_the_end(browser, library_server) -> None:
    server, root = library_server
    rng = np.random.default_rng(0)
    for number in range(12):
        Image.fromarray(rng.integers(0, 255, (96, 128, 3), dtype=np.uint8)).save(root / "sub" / f"new-{number}.png")
    view = Page(browser, server.url, viewport={"width": 1100, "height": 800})
    page = view.page
    page.click(".tab[data-view=index]")
    page.click("#index-start")
    page.wait_for_selector("#index-state[data-state=done]", timeout=120_000)
    assert page.evaluate("document.querySelector('#index-progress').value") == 12
    assert page.evaluate("document.querySelector('#index-progress').max") == 12
    assert "12 added" in page.inner_text("#index-state")
    page.wait_for_function("document.querySelector('#library').textContent.startsWith('18 images')")
    view.shot("index-run")
    view.close()


def test_the_api_docs_work_offline(browser, library_server) -> None:
    server, _ = library_server
    view = Page(browser, server.url + "docs", viewport={"width": 1100, "height": 800})
    view.page.wait_for_selector(".swagger-ui .opblock")
    assert "/api/search" in view.page.inner_text(".swagger-ui")
    view.close()


@pytest.fixture(scope="module")
def shapes_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, int]]:
    """A folder of shapes-world scenes indexed with the shapes CLIP, served with the shapes detector."""
    from clipaware.eval.shapes import SHAPES_CLIP_PATH
    from clipaware.eval.shapes.scenes import ObjectSpec, generate_scenes, make_scene

    root = tmp_path_factory.mktemp("shapes") / "scenes"
    root.mkdir()
    specs = [ObjectSpec("circle", "red", "small")] * 2 + [ObjectSpec("circle", "blue", "small")]
    specs += [ObjectSpec("square", "green", "small"), ObjectSpec("triangle", "yellow", "small")]
    make_scene(np.random.default_rng(3), specs).image.save(root / "three-circles.png")
    for number, scene in enumerate(generate_scenes(5, seed=11)):
        scene.image.save(root / f"scene-{number}.png")
    assert cli("index", root, "--model", SHAPES_CLIP_PATH, "--json")[0] == 0
    server = Server("--db", root / ".clipaware.db", "--detector", "shapes")
    yield server, 3
    assert server.stop() == 0


def test_ask_how_many_circles_and_see_the_boxes(browser, shapes_server) -> None:
    server, circles = shapes_server
    view = Page(browser, server.url, viewport={"width": 1100, "height": 900})
    page = view.page
    page.fill("#q", "circles")
    page.press("#q", "Enter")
    page.wait_for_selector("#results li")
    page.click("#results button[aria-label='Open three-circles.png']")
    page.wait_for_selector("#viewer:not([hidden])")
    page.fill("#ask-q", "how many circles?")
    page.press("#ask-q", "Enter")
    page.wait_for_selector("#answer-value")
    assert page.inner_text("#answer-value") == str(circles)
    assert page.locator("#viewer-boxes rect").count() == circles
    view.shot("ask-how-many-circles")
    view.close()
