"""Emails to the customer, for every handler: render a template and send it once.

The send is keyed by the service task's idempotency key plus the template name, so a
retry after a crash (or a handler that sends two templates) never mails the same message
twice, while the same template sent by another task (a second reminder) is a new email.
A failing sender raises: the engine retries the task with backoff, then opens an incident.
"""

from __future__ import annotations

import logging
from typing import Any

from adapters.email import render_email
from domain.accounts import users
from engine.registry import HandlerContext

log = logging.getLogger(__name__)

SANDBOX_MAIL_DOMAIN = "customers.tokenflow.local"


def send_email(ctx: HandlerContext, template: str, *, to: str | None = None, **context: Any) -> str:
    """Render `template` with `context` (plus `name`, unless given) and send it to `to`
    or the instance's customer; returns the message id. Every email ends with a link:
    `link_url` (default: the order page of this instance) and `link_text`."""
    context.setdefault("name", customer_name(ctx))
    context.setdefault("link_url", page_url(ctx, f"/orders/{ctx.instance_id}"))
    context.setdefault("link_text", "Your order, and what comes next")
    rendered = render_email(template, **context)
    message_id: str = ctx.services.adapters.email.send(
        to or customer_email(ctx),
        rendered.subject,
        rendered.text,
        rendered.html,
        idempotency_key=f"{ctx.idempotency_key}:{template}",
    )
    return message_id


def page_url(ctx: HandlerContext, path: str) -> str | None:
    """The web app's address of `path` (TOKENFLOW_BASE_URL), or None when unknown."""
    settings = getattr(ctx.services, "settings", None) or {}
    base = settings.get("public_base_url")
    return f"{base}{path}" if base else None


def credentials_link(ctx: HandlerContext) -> dict[str, Any]:
    """For emails about a credential rather than an order (renewal, a lost token)."""
    return {"link_url": page_url(ctx, "/credentials"), "link_text": "Your credentials"}


def customer_email(ctx: HandlerContext) -> str:
    """An `email` variable wins (a customer may give another address), then the account's
    address; a customer with neither (demo or test accounts) gets a sandbox address, so
    the message still lands in the outbox where someone can read it."""
    given = ctx.data.get("email")
    if isinstance(given, str) and given.strip():
        return given.strip()
    if ctx.owner_id is not None:
        stored = users.email_of(ctx.session, ctx.owner_id)
        if stored:
            return stored
    log.info("instance %s: no email address known, using the sandbox domain", ctx.instance_id)
    return f"customer-{ctx.owner_id or 'unknown'}@{SANDBOX_MAIL_DOMAIN}"


def customer_name(ctx: HandlerContext) -> str:
    """The most formal name the journey has collected so far."""
    legal = " ".join(
        str(ctx.data[k]).strip() for k in ("legal_first_name", "legal_last_name") if ctx.data.get(k)
    )
    for candidate in (legal, ctx.data.get("ship_name"), ctx.data.get("bill_name")):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()
    return "customer"
