"""A live Tokenflow on a free port (werkzeug in a thread, a real SQLite file built from
the real diagrams and handlers) and Debian's Chromium driven by Playwright.

Only the SQLite backend: the server and the test share one process, clock and outbox.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.analyst.builders import analyst_system
from tests.browser.builders import Walk, axe_script
from tests.web.builders_pages import ui_app, ui_system

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class LiveServer:
    def __init__(self, system: Any) -> None:
        self.system = system
        self.app = ui_app(system)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=_Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def _serve(config: Any, make_system: Callable[[], Any]) -> Iterator[LiveServer]:
    if not config.database_url.startswith("sqlite"):
        pytest.skip("browser tests run on the SQLite backend only")
    with LiveServer(make_system()) as server:
        yield server


@pytest.fixture
def live(config) -> Iterator[LiveServer]:
    """The customer and staff pages on the real diagrams."""
    yield from _serve(config, lambda: ui_system(config))


@pytest.fixture
def analyst_live(config) -> Iterator[LiveServer]:
    """The analyst's pages, with the systems of `tests.analyst.builders`."""
    yield from _serve(config, lambda: analyst_system(config)[0])


def _launch() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def chromium() -> Iterator[Any]:
    yield from _launch()


@pytest.fixture(scope="module")
def one_chromium() -> Iterator[Any]:
    """One browser for every test of a module; each person gets a context of their own."""
    yield from _launch()


@pytest.fixture
def screenshot() -> Any:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


@pytest.fixture
def walk(request, screenshot) -> Walk:
    """Screenshots named `walk-<the walk>-NN-<page>`, the walk being the first word of
    the test's name that says which one it is."""
    words = request.node.originalname.split("_")
    name = next(w for w in words if w in {"card", "invoice", "video", "three"})
    for stale in SCREENSHOTS.glob(f"walk-{name}-*.png"):  # an earlier run's, numbered apart
        stale.unlink()
    return Walk(f"walk-{name}", screenshot, axe_script())
