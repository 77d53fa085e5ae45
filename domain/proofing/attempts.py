"""Proofing attempts as support and the analysts read them, and the details the credit
bureau is asked with.

An attempt row carries no personal data: the method, the outcome, the bureau's or the
booking's reference, who ran the step and when.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from domain.proofing.models import ProofingAttempt

_PHONE_SEPARATORS = re.compile(r"[\s().-]")


def record_attempt(
    session: Session,
    *,
    instance_id: str,
    order_number: str | None,
    method: str,
    outcome: str,
    reference: str | None,
    actor: str | None,
    now: datetime,
) -> None:
    """Log one attempt of `method` (experian, video) and its outcome."""
    session.add(
        ProofingAttempt(
            instance_id=instance_id,
            order_number=order_number,
            method=method,
            outcome=outcome,
            reference=reference,
            actor=actor,
            created_at=now,
        )
    )


def us_phone(text: str) -> str:
    """Experian is for US residents, who write their number without +1; the bureau
    needs E.164."""
    digits = _PHONE_SEPARATORS.sub("", text)
    if digits.isdigit() and len(digits) == 10:
        return "+1" + digits
    if digits.isdigit() and len(digits) == 11 and digits.startswith("1"):
        return "+" + digits
    return text
