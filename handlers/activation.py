"""Activation codes: issued after video proofing or sent by letter, typed at `activate_token`.

A code is 10 characters of Crockford's base32 (50 bits), shown as `XXXXX-XXXXX`, read
case-insensitively, with the letters people confuse (I, L, O) taken as the digits they
look like. It is stored only as a keyed digest, works once, and expires.

A code is derived from the seed key and the task's idempotency key rather than drawn
at random: a task retried after a crash produces the same code, so the letter already
posted (the postal sandbox refuses a retry with other content) and the digest stored
agree. Deriving it needs the seed key, which never enters the database.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from adapters.common import ADDRESS_FIELDS
from domain import crockford
from domain.codes import code_digest
from domain.proofing.models import ActivationCode
from domain.ratelimit import RateLimited, check_allowed, record_failure, reset
from engine.durations import parse_duration
from engine.registry import BpmnError, FieldErrors, HandlerContext
from handlers import registry
from handlers.notifications import customer_name, send_email
from handlers.proofing import order_number, record_attempt

CODE_LENGTH = 10  # Crockford base32 characters
DEFAULT_VALIDITY = "P30D"
RATE_SCOPE = "activation_code"


def validity(ctx: HandlerContext) -> timedelta:
    """The service task's `validity` setting, so analysts change it in the diagram."""
    return parse_duration(ctx.config.get("validity") or DEFAULT_VALIDITY)


def derive_code(seed_key: bytes, idempotency_key: str) -> str:
    """The activation code for one service task, as 10 base32 characters."""
    mac = hmac.new(
        seed_key, f"tokenflow:activation-code-gen:{idempotency_key}".encode(), hashlib.sha256
    ).digest()
    value = int.from_bytes(mac[:8], "big") >> (64 - 5 * CODE_LENGTH)
    return crockford.encode(value, CODE_LENGTH)


def grouped(code: str) -> str:
    """How a code is shown: two groups of five, easy to read out and to type."""
    return f"{code[:5]}-{code[5:]}"


def normalize(text: object) -> str | None:
    """The code as typed, in canonical form; None when it cannot be a code."""
    return crockford.normalize(text, CODE_LENGTH)


def issue(ctx: HandlerContext, channel: str) -> tuple[str, ActivationCode]:
    """Store a new code's digest for this order; returns the code in clear, for the one
    place that shows it (a notice or a letter)."""
    code = derive_code(ctx.services.seed_key, ctx.idempotency_key)
    row = ActivationCode(
        instance_id=ctx.instance_id,
        order_number=order_number(ctx),
        code_hash=code_digest(ctx.services.seed_key, "activation", code),
        channel=channel,
        issued_at=ctx.now,
        expires_at=ctx.now + validity(ctx),
    )
    ctx.session.add(row)
    ctx.session.flush()
    ctx.audit("activation_code.issued", channel=channel, expires_at=row.expires_at.isoformat())
    return code, row


def _issued_variables(row: ActivationCode) -> dict[str, Any]:
    return {
        "activation_code_required": True,
        "activation_code_channel": row.channel,
        "activation_code_expires_at": row.expires_at.isoformat(),
    }


@registry.handler()
def issue_activation_code(ctx: HandlerContext) -> dict[str, Any]:
    """The agent approved the video interview: the code is shown to the agent once (to
    read out to the customer) and kept only as a digest. A code nobody would see is not
    made: when this runs in the background (a retry after a failure in the agent's step)
    it throws `activation_code_not_shown`, and the diagram asks an agent to hand one over."""
    if not ctx.shows_notices:
        raise BpmnError(
            "activation_code_not_shown", "no agent is there to read the activation code out"
        )
    code, row = issue(ctx, "video")
    record_attempt(ctx, "video", "pass", ctx.data.get("appointment_id"))
    ctx.notice(activation_code=grouped(code), activation_code_expires_at=row.expires_at.isoformat())
    return _issued_variables(row)


def letter_address(data: Any) -> dict[str, Any]:
    """The home address the customer gave for proofing, else the shipping address."""
    name = " ".join(
        str(data.get(k) or "").strip() for k in ("legal_first_name", "legal_last_name")
    ).strip()
    home = {f: data.get(f) for f in ("street", "city", "postal_code", "country")}
    if all(home.values()):
        return {"name": name or data.get("ship_name"), **home}
    return {f: data.get(f"ship_{f}") for f in ADDRESS_FIELDS} | ({"name": name} if name else {})


@registry.handler()
def mail_activation_code(ctx: HandlerContext) -> dict[str, Any]:
    """Experian located the customer but some answers were wrong: a code goes by post to
    the home address, which proves the customer lives there."""
    code, row = issue(ctx, "mail")
    body = (
        f"Dear {customer_name(ctx)},\n\n"
        f"your activation code for order {order_number(ctx) or ''} is:\n\n"
        f"    {grouped(code)}\n\n"
        f"Enter it when you activate your token, before {row.expires_at:%d %B %Y}.\n"
        "It works once. Keep it private: nobody from Tokenflow will ever ask you for it."
    )
    letter = ctx.services.adapters.postal.send_letter(
        letter_address(ctx.data),
        "activation_code",
        body,
        f"{ctx.idempotency_key}:letter",
        ctx.now,
    )
    send_email(
        ctx,
        "activation_code_by_mail_notice",
        order_number=order_number(ctx) or "",
        expected_delivery=letter.expected_delivery,
    )
    return {
        **_issued_variables(row),
        "activation_letter_expected": letter.expected_delivery.isoformat(),
    }


@registry.handler()
def activate_without_code(ctx: HandlerContext) -> dict[str, Any]:
    """Identity proven and no code issued (an Experian pass): nothing for the customer to
    type, so the token is activated here rather than on an empty form."""
    ctx.audit("token.activated", without_code=True)
    return {"activated_at": ctx.data.get("activated_at") or ctx.now.isoformat()}


def _refuse(message: str) -> FieldErrors:
    return FieldErrors({"activation_code": message})


def _find(ctx: HandlerContext, code: str) -> ActivationCode | None:
    number = order_number(ctx)
    mine = ActivationCode.instance_id == ctx.instance_id
    return ctx.session.scalars(
        select(ActivationCode)
        .where(ActivationCode.code_hash == code_digest(ctx.services.seed_key, "activation", code))
        .where(or_(mine, ActivationCode.order_number == number) if number else mine)
        .with_for_update()
    ).first()


@registry.validator()
def check_activation_code(ctx: HandlerContext, values: dict[str, Any]) -> dict[str, Any]:
    """Accept this order's code once, before it expires; without proofing a plain
    confirmation is enough. Failures count towards a lockout that outlives the refusal."""
    if not ctx.data.get("activation_code_required"):
        return {"activation_code": None}
    subject = order_number(ctx) or ctx.instance_id
    try:
        check_allowed(ctx.session, RATE_SCOPE, subject, ctx.now)
    except RateLimited as exc:
        raise _refuse(exc.message) from None
    code = normalize(values.get("activation_code"))
    row = _find(ctx, code) if code else None
    problem = _problem(row, ctx.now)
    if problem:
        left = record_failure(ctx.session, RATE_SCOPE, subject, ctx.now)
        ctx.audit("activation_code.refused", reason=problem)
        raise _refuse(
            _MESSAGES[problem] + ("" if left else " Too many attempts: wait before trying again.")
        )
    assert row is not None
    row.used_at = ctx.now
    reset(ctx.session, RATE_SCOPE, subject)
    ctx.audit("activation_code.used", channel=row.channel)
    # The form field is not sensitive, so the engine would keep the typed code in task
    # data; spent or not, a code never stays there in clear.
    return {"activation_code": None, "activated_at": ctx.now.isoformat()}


_MESSAGES = {
    "wrong": "This is not a valid activation code. Check it and try again.",
    "used": "This activation code has already been used.",
    "expired": "This activation code has expired. Please contact support for a new one.",
}


def _problem(row: ActivationCode | None, now: datetime) -> str | None:
    if row is None:
        return "wrong"
    if row.used_at is not None:
        return "used"
    if now >= row.expires_at:
        return "expired"
    return None
