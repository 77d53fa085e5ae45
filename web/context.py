"""The system the app was created over (`create_app(system)`), for the request in hand:
typed, so that a reader or a type checker can follow a route to the service layer."""

from __future__ import annotations

from typing import cast

from flask import current_app

from service_layer.system import System

EXTENSION = "tokenflow"


def system() -> System:
    return cast(System, current_app.extensions[EXTENSION])
