"""The analyst pages' blueprint, which each page module adds its routes to."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "analyst",
    __name__,
    url_prefix="/analyst",
    template_folder="templates",
    static_folder="static",
)
