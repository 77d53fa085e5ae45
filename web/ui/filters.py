"""Jinja filters: dates, ages, money, phone numbers and countries, the same way on every page."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask

from engine import form_formats
from engine.clock import clock


def as_datetime(value: Any) -> datetime | date | None:
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def when(value: Any) -> str:
    """`29 Nov 2026, 09:00 UTC`; dates alone as `29 Nov 2026`."""
    moment = as_datetime(value)
    if moment is None:
        return "" if value is None else str(value)
    if not isinstance(moment, datetime):
        return day(moment)
    zone = moment.strftime("%Z") or "UTC"
    return f"{moment.day} {moment:%b %Y, %H:%M} {zone}"


def day(value: Any) -> str:
    moment = as_datetime(value)
    if moment is None:
        return "" if value is None else str(value)
    return f"{moment.day} {moment:%b %Y}"


def age(value: Any) -> str:
    """How long ago: `just now`, `12 min`, `5 h`, `3 d`."""
    moment = as_datetime(value)
    if not isinstance(moment, datetime):
        return ""
    seconds = max(0, int((clock.now() - moment).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def money(cents: Any, currency: str = "USD") -> str:
    if not isinstance(cents, int):
        return ""
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency or "", "")
    amount = f"{cents // 100:,}.{cents % 100:02d}"
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}"


def humanize(name: Any) -> str:
    """`token_with_proofing` -> `Token with proofing`."""
    text = str(name or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def phone(value: Any) -> str:
    """A stored E.164 number in international format: `+1 415-555-0123`."""
    return form_formats.shown_phone(value)


def country(code: Any) -> str:
    """An ISO 3166-1 alpha-2 code as the country's name; anything else as it is."""
    return form_formats.country_name(code) or str(code or "")


def register(app: Flask) -> None:
    app.add_template_filter(phone)
    app.add_template_filter(country)
    app.add_template_filter(when)
    app.add_template_filter(day)
    app.add_template_filter(age)
    app.add_template_filter(money)
    app.add_template_filter(humanize)
