"""Activation codes at work: issued after video proofing or sent by letter, typed at
`activate_token`. What a code is, how it is made, kept and spent is
`domain.proofing.activation`; these handlers read the task and say what happened.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from adapters.common import ADDRESS_FIELDS
from domain.proofing.activation import CodeRefused, grouped, issue_code, redeem
from domain.proofing.models import ActivationCode
from engine.durations import parse_duration
from engine.registry import BpmnError, FieldErrors, HandlerContext
from handlers import registry
from handlers.notifications import customer_name, send_email
from handlers.proofing import order_number, record_attempt

DEFAULT_VALIDITY = "P30D"


def validity(ctx: HandlerContext) -> timedelta:
    """The service task's `validity` setting, so analysts change it in the diagram."""
    return parse_duration(ctx.config.get("validity") or DEFAULT_VALIDITY)


def issue(ctx: HandlerContext, channel: str) -> tuple[str, ActivationCode]:
    """This task's code for this order, its digest stored; returns the code in clear, for
    the one place that shows it (a notice or a letter)."""
    code, row = issue_code(
        ctx.session,
        ctx.services.seed_key,
        idempotency_key=ctx.idempotency_key,
        instance_id=ctx.instance_id,
        order_number=order_number(ctx),
        channel=channel,
        now=ctx.now,
        validity=validity(ctx),
    )
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


@registry.validator()
def check_activation_code(ctx: HandlerContext, values: dict[str, Any]) -> dict[str, Any]:
    """Accept this order's code once, before it expires; without proofing a plain
    confirmation is enough. Failures count towards a lockout that outlives the refusal."""
    if not ctx.data.get("activation_code_required"):
        return {"activation_code": None}
    number = order_number(ctx)
    try:
        row = redeem(
            ctx.session,
            ctx.services.seed_key,
            subject=number or ctx.instance_id,
            instance_id=ctx.instance_id,
            order_number=number,
            typed=values.get("activation_code"),
            now=ctx.now,
        )
    except CodeRefused as exc:
        if exc.reason is not None:
            ctx.audit("activation_code.refused", reason=exc.reason)
        raise FieldErrors({"activation_code": exc.message}) from None
    ctx.audit("activation_code.used", channel=row.channel)
    # The form field is not sensitive, so the engine would keep the typed code in task
    # data; spent or not, a code never stays there in clear.
    return {"activation_code": None, "activated_at": ctx.now.isoformat()}
