"""Use cases of relying applications: register one (its API key shown once), list them,
deactivate one. The API, the admin pages and the CLI all call these; each opens its one
transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.relying_apps import apps as relying_apps
from domain.relying_apps.models import RelyingApp
from engine.db import unit_of_work

from .system import System

AppError = relying_apps.AppError


@dataclass(frozen=True)
class Application:
    """What a front end shows of a relying application (never its key's digest)."""

    name: str
    accepts: str  # as stored: kinds joined by commas
    kinds: tuple[str, ...]
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, app: RelyingApp) -> Application:
        return cls(app.name, app.accepts, tuple(sorted(app.accepted)), app.active, app.created_at)


def register_application(
    system: System, actor: str, name: str, accepts: str
) -> tuple[Application, str]:
    """The new application and its API key, which is shown this once (AppError when the
    name or the kinds are refused)."""
    with unit_of_work(system.session_factory) as s:
        app, api_key = relying_apps.create_app(s, name, accepts, actor)
        return Application.of(app), api_key


def list_applications(system: System) -> list[Application]:
    with unit_of_work(system.session_factory) as s:
        return [Application.of(app) for app in relying_apps.list_apps(s)]


def deactivate_application(system: System, actor: str, name: str) -> Application:
    """Refuse the application's key from now on (AppError when there is no such one)."""
    with unit_of_work(system.session_factory) as s:
        return Application.of(relying_apps.deactivate_app(s, name, actor))
