"""License keys: their format, and issuing, resending and redeeming them.

Format (interfaces.md): four groups of four characters of Crockford's base32 alphabet,
`7QK2-M9XD-4TRA-B1CZ`: 80 bits, read aloud without I/L/O/U confusion. Entry ignores case,
spaces and dashes, and reads O as 0 and I or L as 1.

Where the clear key lives. The diagram issues the key in one task and emails it in
another, and task data is stored and shown, so the key must not travel in it. The key is
therefore *derived*, not drawn at random: HMAC-SHA256 under a key derived from the server's
seed key over (instance, order number, sequence). Sending re-derives it (`clear_key`); the
database keeps only a keyed hash. A database dump alone reveals no key, and the trust
boundary is the one that already guards every token seed. Derivation also makes a resend
crash-safe: a retry derives the same key and the email sender's idempotency key sees the
same message, where a random key would mail a second, different key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from domain import crockford, ratelimit
from domain.auditing import Audit
from domain.codes import code_digest
from domain.license_keys.models import LicenseKey
from domain.orders.models import SalesOrder
from domain.tokens.models import HardwareToken

GROUPS, GROUP_LENGTH = 4, 4
KEY_LENGTH = GROUPS * GROUP_LENGTH

LIMIT = ratelimit.Limit(max_failures=5)
MESSAGES = {
    "malformed": "A license key has 16 letters and digits in four groups, "
    "like 7QK2-M9XD-4TRA-B1CZ. Please check what you typed.",
    "unknown": "This license key is not valid. Please check it against the email we sent.",
    "used": "This license key has already been used.",
    "inactive": "This license key is no longer active. Please contact support.",
    "replaced": "This license key was replaced by a newer one: "
    "please use the key from our latest email.",
}


# -- the format ------------------------------------------------------------------------


def normalize(text: object) -> str | None:
    """The 16 canonical characters a typed key stands for, or None if it is no key."""
    return crockford.normalize(text, KEY_LENGTH)


def format_key(compact: str) -> str:
    """`7QK2M9XD4TRAB1CZ` -> `7QK2-M9XD-4TRA-B1CZ`."""
    return "-".join(compact[i : i + GROUP_LENGTH] for i in range(0, KEY_LENGTH, GROUP_LENGTH))


def derive_key(seed_key: bytes, instance_id: str, order_number: str, sequence: int) -> str:
    """The formatted key for one (instance, order, sequence); see the module docstring."""
    digest = code_digest(
        seed_key, "license_key_derivation", f"{instance_id}\0{order_number}\0{sequence}"
    )
    number = int(digest[: KEY_LENGTH * 5 // 4], 16)  # 80 bits = 20 hex digits
    return format_key(crockford.encode(number, KEY_LENGTH))


def key_hash(seed_key: bytes, compact: str) -> str:
    return code_digest(seed_key, "license_key", compact)


def clear_key(seed_key: bytes, row: LicenseKey) -> str:
    """The key `row` stores the hash of, derived again for an email."""
    return derive_key(seed_key, row.instance_id, row.order_number, row.sequence)


def masked(compact: str) -> str:
    """A used key as task data keeps it: the last group is enough to recognise it."""
    return "XXXX-XXXX-XXXX-" + compact[-GROUP_LENGTH:]


# -- issuing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Issuer:
    """Who issues keys: the task (a repeated run finds the keys it issued), its instance,
    the seed key the keys derive from, the moment, and where the issue is audited."""

    session: Session
    seed_key: bytes
    instance_id: str
    task_id: str
    now: datetime
    audit: Audit

    def issue(self, order: SalesOrder, position: int) -> LicenseKey:
        """The key this task issued for `position` (a repeated run finds it), or a new one
        with the order's next sequence number."""
        task = self.task_id if position == 1 else f"{self.task_id}/{position}"
        session = self.session
        row = session.scalars(select(LicenseKey).where(LicenseKey.issued_by_task == task)).first()
        if row is None:
            last = session.scalar(
                select(func.max(LicenseKey.sequence)).where(
                    LicenseKey.order_number == order.order_number
                )
            )
            sequence = (last or 0) + 1
            clear = derive_key(self.seed_key, self.instance_id, order.order_number, sequence)
            row = LicenseKey(
                order_number=order.order_number,
                sequence=sequence,
                position=position,
                instance_id=self.instance_id,
                issued_by_task=task,
                key_hash=key_hash(self.seed_key, clear.replace("-", "")),
                status="issued",
                issued_at=self.now,
            )
            session.add(row)
            session.flush()
            self.audit("license_key.issued", order_number=order.order_number, sequence=sequence)
        return row


def current_keys(session: Session, order_number: str) -> list[LicenseKey]:
    """The order's keys that stand, one per position (a replaced key stands no more),
    locked."""
    return list(
        session.scalars(
            select(LicenseKey)
            .where(LicenseKey.order_number == order_number, LicenseKey.status != "replaced")
            .order_by(LicenseKey.position)
            .with_for_update()
        )
    )


def require_paid(order: SalesOrder) -> None:
    if order.status != "paid":
        raise RuntimeError(f"order {order.order_number} is {order.status}: no key before payment")


def issue_keys(issuer: Issuer, order: SalesOrder) -> list[LicenseKey]:
    """The paid order's keys, one per token: those that stand, else new ones."""
    require_paid(order)
    return current_keys(issuer.session, order.order_number) or [
        issuer.issue(order, position) for position in range(1, order.quantity + 1)
    ]


@dataclass(frozen=True)
class Reissued:
    """What a resend sends (`keys`; none when every standing key was used or retired) and
    the standing keys' status."""

    keys: list[LicenseKey]
    status: str


def reissue_keys(issuer: Issuer, order: SalesOrder) -> Reissued:
    """New keys replace the paid order's unused ones, so a key that went astray stops
    working; they are issued here if none ever was. Used and inactive keys are not
    replaced. A repeated run of the task finds the keys it issued."""
    require_paid(order)
    current = current_keys(issuer.session, order.order_number)
    rows = [row for row in current if row.issued_by_task.split("/")[0] == issuer.task_id]
    if not rows:  # not a repeated run of this task
        unused = [row for row in current if row.status == "issued"]
        if current and not unused:
            return Reissued([], current[0].status)
        positions = [row.position for row in unused] or range(1, order.quantity + 1)
        for row in unused:
            row.status = "replaced"
        issuer.session.flush()
        rows = [issuer.issue(order, position) for position in positions]
    return Reissued(rows, rows[0].status)


def mark_emailed(rows: Sequence[LicenseKey], now: datetime) -> None:
    """Note when keys were first emailed (a resend keeps the first time)."""
    for row in rows:
        row.emailed_at = row.emailed_at or now


def deactivate_license_key(session: Session, instance_id: str) -> int:
    """Make the key used in `instance_id` inactive (proofing failed for good); returns how
    many keys changed."""
    result = session.execute(
        update(LicenseKey)
        .where(LicenseKey.used_in_instance_id == instance_id, LicenseKey.status == "used")
        .values(status="inactive")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# -- redeeming ---------------------------------------------------------------------------


class KeyRefused(Exception):
    """The typed key was not accepted; `message` says why, for the key's field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Redeemed:
    """An accepted key: its typed form, its row, the order it was bought in, and the
    serial of the token that goes with it (None while the order's are not allocated)."""

    compact: str
    key: LicenseKey
    order: SalesOrder
    token_serial: str | None


def redeem(
    session: Session,
    seed_key: bytes,
    typed: object,
    instance_id: str,
    owner_id: int | None,
    now: datetime,
    audit: Audit,
) -> Redeemed:
    """Accept an issued key of a paid order (any order: a key is transferable until used)
    and mark it used by `owner_id` in `instance_id`. Refusals are counted per instance and
    per customer; too many lock entry for a while. KeyRefused says why not."""
    subjects = _subjects(instance_id, owner_id)
    try:
        for scope, subject in subjects:
            ratelimit.check_allowed(session, scope, subject, now)
    except ratelimit.RateLimited as limited:
        raise KeyRefused(limited.message) from None
    compact = normalize(typed)
    row = None
    if compact is not None:
        row = session.scalars(
            select(LicenseKey)
            .where(LicenseKey.key_hash == key_hash(seed_key, compact))
            .with_for_update()
        ).first()
    if compact is None or row is None or row.status != "issued":
        problem = "malformed" if compact is None else "unknown" if row is None else row.status
        _refuse(session, subjects, problem, now, audit)
    bought = session.scalars(
        select(SalesOrder).where(SalesOrder.order_number == row.order_number).with_for_update()
    ).one()
    if bought.status != "paid":  # cancelled after the key went out
        _refuse(session, subjects, "inactive", now, audit)
    row.status, row.used_at = "used", now
    row.used_by_owner_id, row.used_in_instance_id = owner_id, instance_id
    for scope, subject in subjects:
        ratelimit.reset(session, scope, subject)
    audit("license_key.used", order_number=row.order_number)
    return Redeemed(compact, row, bought, _token_of(session, row))


def _token_of(session: Session, row: LicenseKey) -> str | None:
    """The serial of the token that goes with the key: the order's n-th token for the
    key at position n (None while the order's tokens are not allocated yet)."""
    return session.scalar(
        select(HardwareToken.serial)
        .where(HardwareToken.order_number == row.order_number)
        .order_by(HardwareToken.id)
        .offset(row.position - 1)
        .limit(1)
    )


def _subjects(instance_id: str, owner_id: int | None) -> list[tuple[str, str]]:
    subjects = [("license_key:instance", instance_id)]
    if owner_id is not None:
        subjects.append(("license_key:owner", str(owner_id)))
    return subjects


def _refuse(
    session: Session, subjects: list[tuple[str, str]], problem: str, now: datetime, audit: Audit
) -> NoReturn:
    """Count the failure (the engine commits it although the task stays open) and refuse."""
    left = min(
        ratelimit.record_failure(session, scope, subject, now, LIMIT) for scope, subject in subjects
    )
    audit("license_key.refused", reason=problem)
    message = MESSAGES[problem]
    if left == 0:
        minutes = int(LIMIT.lockout.total_seconds() // 60)
        message = f"{message} Too many attempts. Try again in {minutes} minutes."
    raise KeyRefused(message)
