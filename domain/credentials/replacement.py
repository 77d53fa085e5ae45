"""A lost token's replacement: the report that revokes it at once, the sign-in code to
the registered phone that proves the customer, and the credential that then names the
replacement for its unchanged term.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.credentials.models import Credential, TokenReplacement
from domain.phone.otp import check_code
from domain.ratelimit import Limit, RateLimited, check_allowed, record_failure
from domain.tokens.models import HardwareToken
from domain.tokens.serials import normalize_serial

CODE_SCOPE = "lost_token_code"
# Codes are resent while the task waits, each with a few tries: this caps the tries of
# the whole report, after which only identity proofing is left.
CODE_LIMIT = Limit(max_failures=10, window=timedelta(days=30), lockout=timedelta(days=30))
CODE_MESSAGES = {
    "wrong": "This code is not right. Check the message and try again.",
    "expired": "This code has expired. A new one is on its way shortly.",
    "exhausted": "Too many wrong tries for this code. A new one is on its way shortly.",
    "none": "No code is waiting. A new one is on its way shortly.",
}
TOO_MANY_CODES = (
    "Too many wrong codes. Tick 'I cannot receive the code' to prove your identity instead."
)


class NotReportable(Exception):
    """The serial given names no token of the customer that may be reported lost."""


class CodeRefused(Exception):
    """A loss code not accepted: `reason` (wrong, expired, exhausted, none) for the audit
    trail, None when the report is out of tries and no code was looked at."""

    def __init__(self, reason: str | None, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def code_purpose(instance_id: str) -> str:
    """The phone codes of one report: a code sent for anything else does not count."""
    return f"lost_token:{instance_id}"


def credential_of(session: Session, owner_id: int | None, serial: str) -> Credential | None:
    return session.scalars(
        select(Credential).where(Credential.token_serial == serial, Credential.owner_id == owner_id)
    ).first()


def reportable_token(session: Session, owner_id: int | None, serial: object) -> HardwareToken:
    """The customer's registered token with this serial, not yet reported."""
    typed = normalize_serial(serial)
    token = session.scalars(
        select(HardwareToken).where(
            HardwareToken.serial == typed, HardwareToken.owner_id == owner_id
        )
    ).first()
    if token is None or credential_of(session, owner_id, typed) is None:
        raise NotReportable("You have no registered token with this serial.")
    if token.status == "revoked":
        raise NotReportable("This token has already been blocked.")
    return token


def revoke(session: Session, owner_id: int | None, serial: str) -> tuple[Credential, bool]:
    """Block the token for good; returns its credential and whether this call blocked it
    (a repeated run finds it blocked already)."""
    token = session.scalars(
        select(HardwareToken).where(HardwareToken.serial == serial).with_for_update()
    ).one()
    credential = credential_of(session, owner_id, serial)
    if credential is None:
        raise RuntimeError(f"token {serial} belongs to no credential of this customer")
    if token.status == "revoked":
        return credential, False
    token.status = "revoked"
    return credential, True


def record_report(
    session: Session,
    credential: Credential,
    *,
    instance_id: str,
    owner_id: int | None,
    serial: str,
    circumstances: str,
    now: datetime,
) -> None:
    """The report of the loss, once per instance."""
    known = session.scalar(
        select(TokenReplacement.id).where(TokenReplacement.instance_id == instance_id)
    )
    if known is None:
        session.add(
            TokenReplacement(
                instance_id=instance_id,
                order_number=credential.order_number,
                owner_id=owner_id,
                lost_serial=serial,
                circumstances=circumstances,
                reported_at=now,
            )
        )


def report_of(session: Session, instance_id: str) -> TokenReplacement:
    found = session.scalars(
        select(TokenReplacement).where(TokenReplacement.instance_id == instance_id)
    ).first()
    if found is None:
        raise RuntimeError(f"instance {instance_id} has no lost-token report")
    return found


def check_loss_code(
    session: Session,
    seed_key: bytes,
    *,
    instance_id: str,
    owner_id: int | None,
    typed: str,
    now: datetime,
) -> None:
    """Accept the newest code sent for this report (now spent); wrong codes are capped per
    report (CODE_LIMIT), after which every try is refused unread."""
    try:
        check_allowed(session, CODE_SCOPE, instance_id, now)
    except RateLimited:
        raise CodeRefused(None, TOO_MANY_CODES) from None
    result = check_code(session, seed_key, owner_id or 0, code_purpose(instance_id), typed, now)
    if result != "ok":
        record_failure(session, CODE_SCOPE, instance_id, now, CODE_LIMIT)
        raise CodeRefused(result, CODE_MESSAGES[result])


def replace_token(session: Session, report: TokenReplacement, now: datetime) -> Credential:
    """The replacement is registered: the credential now names it, for its unchanged term."""
    credential = session.scalars(
        select(Credential)
        .where(
            Credential.order_number == report.order_number,
            Credential.token_serial == report.lost_serial,
        )
        .with_for_update()
    ).one()
    credential.token_serial = report.replacement_serial
    report.registered_at = report.registered_at or now
    return credential
