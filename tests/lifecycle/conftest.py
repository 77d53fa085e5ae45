"""The `life` fixture: a wired Tokenflow with people, relying applications and an API
client, on every configured database backend."""

from __future__ import annotations

import pytest

from service_layer.config import Config
from tests.lifecycle.builders import Life, wire


@pytest.fixture
def life(config: Config) -> Life:
    return wire(config)
