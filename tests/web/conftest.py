"""The pages' tests share one set-up: the journey's system with users and tokens, its
Flask app, and Alice, a customer, logged in. A module wants another (say, no tokens in
stock) by defining its own fixture of the same name."""

from __future__ import annotations

import pytest

from tests.web.builders_pages import Browser, ui_app, ui_system


@pytest.fixture
def system(config):
    return ui_system(config)


@pytest.fixture
def app(system):
    return ui_app(system)


@pytest.fixture
def alice(app):
    return Browser(app).login("alice")
