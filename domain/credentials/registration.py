"""Token registration: the customer proves possession of the shipped token, and the
credential starts its one-year term.

Two consecutive codes prove possession far better than one, so registration searches a
wider window than login (the token may have sat in a drawer, or its button been pressed
in the box). Storing the match makes both codes unusable for ever after.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.credentials.models import Credential
from domain.orders.models import SalesOrder
from domain.ratelimit import RateLimited, check_allowed, record_failure, reset
from domain.tokens.models import HardwareToken
from domain.tokens.otp import (
    REGISTRATION_HOTP_LOOKAHEAD,
    REGISTRATION_TOTP_WINDOW,
    find_consecutive_match,
)
from domain.tokens.seed_crypto import open_sealed
from domain.tokens.serials import normalize_serial

RATE_SCOPE = "token_registration"
SUBSCRIPTION_YEARS = 1


@dataclass(frozen=True)
class Shipped:
    """Where to find the token that goes with a license key: its serial when known, else
    the key's order (the first token allocated to it)."""

    serial: str | None
    order_number: str | None


class RegistrationRefused(Exception):
    """Registration did not happen. `field` is the form field the message goes with;
    `reason` (serial, codes) names a refusal that counted as a guess, None otherwise."""

    def __init__(self, field: str, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.reason = reason


def shipped_token(
    session: Session, shipped: Shipped, *, lock: bool = False
) -> HardwareToken | None:
    """The shipped token `shipped` points at, locked for update when asked."""
    if shipped.serial:
        query = select(HardwareToken).where(HardwareToken.serial == shipped.serial)
    else:
        if not shipped.order_number:
            return None
        query = select(HardwareToken).where(HardwareToken.order_number == shipped.order_number)
    if lock:
        query = query.with_for_update()
    return session.scalars(query.order_by(HardwareToken.id)).first()


def register_token(
    session: Session,
    seed_key: bytes,
    shipped: Shipped,
    *,
    subject: str,
    serial: object,
    code1: str,
    code2: str,
    owner_id: int | None,
    now: datetime,
) -> HardwareToken:
    """Accept the shipped token's serial with two consecutive fresh codes, then bind the
    token to `owner_id`. Every refusal after the token is found counts towards a lockout
    of `subject`, because each try is another guess at a code."""
    try:
        check_allowed(session, RATE_SCOPE, subject, now)
    except RateLimited as exc:
        raise RegistrationRefused("code2", exc.message) from None
    token = shipped_token(session, shipped, lock=True)
    if token is None or token.status != "allocated":
        raise RegistrationRefused(
            "serial_number",
            "No token is waiting to be registered for this order. Please contact support.",
        )
    if normalize_serial(serial) != normalize_serial(token.serial):
        record_failure(session, RATE_SCOPE, subject, now)
        raise RegistrationRefused(
            "serial_number",
            "This is not the serial number of the token we sent you. "
            "It is printed on the back of the token.",
            "serial",
        )
    secret = open_sealed(seed_key, token.sealed_secret, token.serial)
    window = REGISTRATION_TOTP_WINDOW if token.kind == "totp" else REGISTRATION_HOTP_LOOKAHEAD
    match = find_consecutive_match(token.otp_params(), secret, code1, code2, now, window)
    if match is None:
        record_failure(session, RATE_SCOPE, subject, now)
        raise RegistrationRefused(
            "code2",
            f"These are not two consecutive codes of token {token.serial}. "
            "Press the button, enter the code, wait for the next one and enter it.",
            "codes",
        )
    token.record_match(match)
    token.status, token.owner_id = "active", owner_id
    token.failures, token.locked_at = 0, None
    reset(session, RATE_SCOPE, subject)
    return token


def purchase_date(
    session: Session, order_number: str | None, given: object, now: datetime
) -> datetime:
    """When the customer paid (the subscription runs from the purchase, not from the
    day the token was registered); without an order row, `given` (the journey's own
    record, ISO 8601), else now."""
    order = (
        session.scalars(select(SalesOrder).where(SalesOrder.order_number == order_number)).first()
        if order_number
        else None
    )
    if order is not None:
        return order.paid_at or order.created_at
    return datetime.fromisoformat(given) if isinstance(given, str) else now


def add_years(moment: datetime, years: int) -> datetime:
    """The same calendar day `years` later; 29 February becomes 28 February."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def activate_credential(
    session: Session,
    shipped: Shipped,
    *,
    instance_id: str,
    order_number: str | None,
    owner_id: int | None,
    given_purchase: object,
    now: datetime,
) -> tuple[Credential, bool]:
    """The journey's active credential, opened on the first call with a term of one year
    from purchase (`purchase_date`), and whether this call opened it. One per journey: an
    order of several tokens has one for each journey that entered one of its keys. The
    shipped token becomes the owner's if nobody's yet."""
    credential = session.scalars(
        select(Credential).where(Credential.instance_id == instance_id)
    ).first()
    token = shipped_token(session, shipped, lock=True)
    opened = credential is None
    if credential is None:
        purchased = purchase_date(session, order_number, given_purchase, now)
        credential = Credential(
            order_number=order_number or instance_id,
            instance_id=instance_id,
            owner_id=owner_id,
            token_serial=token.serial if token else None,
            status="active",
            purchased_at=purchased,
            activated_at=now,
            expires_at=add_years(purchased, SUBSCRIPTION_YEARS),
        )
        session.add(credential)
    if token is not None and token.owner_id is None:
        token.owner_id = owner_id
    session.flush()
    return credential, opened
