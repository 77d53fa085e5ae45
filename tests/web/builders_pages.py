"""Helpers for the HTML UI tests: a system on the real diagrams and handlers, users of
every role, and a small browser over Flask's test client that posts forms with the CSRF
token taken from the page it came from, as a person's browser would."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from engine.db import unit_of_work
from service_layer.config import Config
from service_layer.system import System
from tests.builders import PASSWORD, journey_system, person
from tests.journey.builders_purchase import CHECKOUT as JOURNEY_CHECKOUT
from tests.journey.builders_tokens import stock_tokens
from web.app import create_app

USERS = [
    ("alice", ["customer"]),
    ("bob", ["customer"]),
    ("pat", ["proofing_agent"]),
    ("sam", ["support"]),
    ("fran", ["finance"]),
    ("root", ["admin"]),
]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# The journey's checkout as a form posts it: booleans as "true".
CHECKOUT = {k: "true" if v is True else v for k, v in JOURNEY_CHECKOUT.items()}


def ui_system(config: Config, tokens: int = 3) -> System:
    system = journey_system(config)
    if tokens:
        stock_tokens(system, tokens)
    with unit_of_work(system.session_factory) as s:
        for name, roles in USERS:
            person(s, name, roles, email=f"{name}@example.com")
    return system


def ui_app(system: System) -> Any:
    app = create_app(system)
    app.config["TESTING"] = True
    return app


def order_number(browser: Browser) -> str:
    """The order number (SO-...) shown on the browser's current page."""
    found = re.search(r"SO-\d{5,}", browser.text())
    assert found, browser.text()[:1000]
    return found.group(0)


class Browser:
    """One person's browser: a cookie jar, the last page, and forms posted from it."""

    def __init__(self, app: Any, base_url: str = "http://localhost") -> None:
        self.client = app.test_client()
        self.base_url = base_url
        self.page = ""

    def get(self, url: str, **kw: Any) -> Any:
        response = self.client.get(url, base_url=self.base_url, **kw)
        self.page = response.get_data(as_text=True)
        response.close()  # static files are streamed from an open file
        return response

    def csrf(self, url: str | None = None) -> str:
        if url is not None:
            self.get(url)
        found = CSRF.search(self.page)
        assert found, "the page has no form with a CSRF token"
        return found.group(1)

    def post(
        self,
        url: str,
        data: dict[str, Any] | None = None,
        *,
        page: str | None = None,
        csrf: bool = True,
        **kw: Any,
    ) -> Any:
        """Post `data` to `url` from `page` (default: the last page seen)."""
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.csrf(page)
        # Over HTTPS flask-wtf also checks the Referer, which browsers send same-origin.
        headers = {"Referer": f"{self.base_url}{page or '/'}", **kw.pop("headers", {})}
        response = self.client.post(url, data=form, base_url=self.base_url, headers=headers, **kw)
        self.page = response.get_data(as_text=True)
        return response

    def follow(self, response: Any) -> Any:
        assert response.status_code in (302, 303), (response.status_code, self.page[:500])
        return self.get(response.headers["Location"])

    def login(self, username: str, password: str = PASSWORD) -> Browser:
        response = self.post("/login", {"username": username, "password": password}, page="/login")
        assert response.status_code == 302, self.text()[:500]
        return self

    def text(self) -> str:
        """The last page as text: tags dropped, entities decoded, spaces collapsed."""
        return " ".join(unescape(re.sub(r"<[^>]+>", " ", self.page)).split())

    def links(self, pattern: str) -> list[str]:
        return re.findall(rf'href="({pattern})"', self.page)

    def task_url(self) -> str:
        """The first task link on the last page."""
        found = self.links(r"/tasks/[0-9a-f-]{36}")
        assert found, self.text()[:1000]
        return found[0]


def submit_task(browser: Browser, url: str, data: dict[str, Any]) -> Any:
    """Open a task's form and post `data` from it."""
    browser.get(url)
    return browser.post(url, data)


def start_order(browser: Browser) -> str:
    """ "Get a token" from the home page; returns the first task's url."""
    response = browser.post("/orders", page="/")
    assert response.status_code == 302
    return response.headers["Location"]


def buy(browser: Browser, product: str = "token_without_proofing", **checkout: Any) -> str:
    """Choose a product and check out; returns the order page's url."""
    url = start_order(browser)
    response = submit_task(browser, url, {"product": product})
    checkout_url = response.headers["Location"]
    response = submit_task(browser, checkout_url, {**CHECKOUT, **checkout})
    assert response.status_code == 302, browser.text()[:1500]
    location = response.headers["Location"]
    if location.startswith("/tasks/") or location.endswith("/receipt"):
        browser.get(location)
        order = browser.links(r"/orders/[0-9a-f-]{36}")
        return order[0]
    return location
