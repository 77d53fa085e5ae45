"""gunicorn entry point: `gunicorn web.wsgi:app` (what `tokenflow web` runs). An entry
point, so it may ask the composition root for the system."""

from __future__ import annotations

from service_layer.config import Config
from tokenflow.system import build_system

from .app import create_app

app = create_app(build_system(Config.from_env()))
