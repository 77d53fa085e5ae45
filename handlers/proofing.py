"""Identity proofing through the credit bureau (Experian-like), and its end when it fails.

The last four SSN digits reach `locate_identity` through `ctx.secrets` only: they go to
the bureau adapter and nowhere else (no variable, row, log line or audit detail).

The diagram counts failed attempts and decides what follows (video after two failed
Experian attempts, the end after three in all), so an analyst can change those rules
without touching Python; the handlers only report each outcome.
"""

from __future__ import annotations

from typing import Any

from adapters.identity import Located, NotLocated
from domain.license_keys import keys
from domain.proofing.attempts import record_attempt as record_proofing_attempt
from domain.proofing.attempts import us_phone
from engine.registry import BpmnError, HandlerContext
from handlers import registry
from handlers.notifications import send_email

QUESTION_COUNT = 3


def order_number(ctx: HandlerContext) -> str | None:
    """The order this journey serves: the business key, or a variable when a called
    process was started on its own."""
    number = ctx.business_key or ctx.data.get("order_number")
    return str(number) if number else None


def record_attempt(
    ctx: HandlerContext, method: str, outcome: str, reference: str | None = None
) -> None:
    """Log the attempt for support and analysts, with no personal data."""
    record_proofing_attempt(
        ctx.session,
        instance_id=ctx.instance_id,
        order_number=order_number(ctx),
        method=method,
        outcome=outcome,
        reference=reference,
        actor=ctx.actor,
        now=ctx.now,
    )
    ctx.audit("proofing.attempt", method=method, outcome=outcome)


def _text(ctx: HandlerContext, name: str) -> str:
    value = ctx.data.get(name)
    return value.strip() if isinstance(value, str) else ""


@registry.handler()
def locate_identity(ctx: HandlerContext) -> dict[str, Any]:
    """Ask the bureau to find the customer; its questions go to the `experian_questions`
    form. Not found throws `identity_not_located` (a failed attempt)."""
    ssn_last4 = ctx.secrets.get("ssn_last4")
    if not isinstance(ssn_last4, str):
        # The SSN digits live in memory for one step only, so a retried call has none:
        # the customer enters the details again, without losing an attempt.
        raise BpmnError(
            "identity_details_needed",
            "details needed again",
            {
                "proofing_message": "Please enter your details once more: we could not reach "
                "the credit bureau the first time."
            },
        )
    try:
        found: Located | NotLocated = ctx.services.adapters.identity.locate(
            _text(ctx, "legal_first_name"),
            _text(ctx, "legal_last_name"),
            _text(ctx, "street"),
            _text(ctx, "city"),
            _text(ctx, "postal_code"),
            _text(ctx, "country") or "US",
            us_phone(_text(ctx, "phone")),
            _text(ctx, "date_of_birth"),
            ssn_last4,
        )
    except ValueError as exc:
        # Details the bureau refuses (a phone number it cannot read, say) find nobody.
        found = NotLocated(str(exc))
    if not isinstance(found, Located):
        record_attempt(ctx, "experian", "not_located")
        raise BpmnError(
            "identity_not_located",
            "not located",
            {"proofing_outcome": "fail", "proofing_message": found.reason},
        )
    out: dict[str, Any] = {"identity_reference": found.reference, "proofing_message": None}
    for number, question in enumerate(found.questions[:QUESTION_COUNT], 1):
        out[f"question_{number}_id"] = question.id
        out[f"question_{number}_text"] = question.text
        out[f"question_{number}_choices"] = [{"id": c, "name": c} for c in question.choices]
    return out


@registry.handler()
def score_identity_answers(ctx: HandlerContext) -> dict[str, Any]:
    """Have the bureau mark the answers: `proofing_outcome` is pass, partial or fail."""
    reference = _text(ctx, "identity_reference")
    answers = {}
    for number in range(1, QUESTION_COUNT + 1):
        question = ctx.data.get(f"question_{number}_id")
        answer = ctx.data.get(f"answer_{number}")
        if question:
            answers[str(question)] = str(answer or "")
    outcome = ctx.services.adapters.identity.score(reference, answers) if reference else "fail"
    record_attempt(ctx, "experian", outcome, reference or None)
    # The choices repeat what the customer told the bureau; once scored they are no use.
    cleared = {f"question_{n}_choices": None for n in range(1, QUESTION_COUNT + 1)}
    return {**cleared, "proofing_outcome": outcome, "proofing_method": "experian"}


@registry.handler()
def deactivate_license_key(ctx: HandlerContext) -> dict[str, Any]:
    """No proofing attempts are left: the license key stops working and the customer is
    told why and whom to contact."""
    changed = keys.deactivate_license_key(ctx.session, ctx.instance_id)
    ctx.audit("license_key.deactivated", keys=changed, reason="proofing_failed")
    send_email(ctx, "proofing_failed", order_number=order_number(ctx) or "", attempts_left=0)
    return {"license_key_status": "inactive", "proofing_outcome": "fail"}
