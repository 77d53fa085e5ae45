"""gunicorn entry point: `gunicorn web.wsgi:app` (what `tokenflow web` runs)."""

from __future__ import annotations

from .app import create_app

app = create_app()
