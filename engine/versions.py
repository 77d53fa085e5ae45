"""Numbered versions per key, as processes and decisions are deployed: the queries both
kinds of definition share."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .errors import NotFound

Row = TypeVar("Row", bound=Any)


def latest(session: Session, model: type[Row], key: str) -> Row | None:
    return session.scalars(
        select(model).where(model.key == key).order_by(model.version.desc()).limit(1)
    ).first()


def latest_of_each(session: Session, model: type[Row]) -> list[Row]:
    """The latest version of every key, by key."""
    newest = (
        select(model.key, func.max(model.version).label("version")).group_by(model.key).subquery()
    )
    joined = (model.key == newest.c.key) & (model.version == newest.c.version)
    return list(session.scalars(select(model).join(newest, joined).order_by(model.key)))


def every(session: Session, model: type[Row]) -> list[Row]:
    return list(session.scalars(select(model).order_by(model.key, model.version)))


def find(session: Session, model: type[Row], key: str, version: int | None, what: str) -> Row:
    """One version (the latest when `version` is None); NotFound names `what` it looked for."""
    if version is None:
        found = latest(session, model, key)
    else:
        query = select(model).where(model.key == key, model.version == version)
        found = session.scalars(query).first()
    if found is None:
        raise NotFound(f"No {what} {key!r}" + (f" version {version}" if version else ""))
    return found
