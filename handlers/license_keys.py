"""License keys: issue, email, resend, and check the key a customer types.

Format (interfaces.md): four groups of four characters of Crockford's base32 alphabet,
`7QK2-M9XD-4TRA-B1CZ`: 80 bits, read aloud without I/L/O/U confusion. Entry ignores case,
spaces and dashes, and reads O as 0 and I or L as 1.

Where the clear key lives. The diagram issues the key in one task and emails it in
another, and task data is stored and shown, so the key must not travel in it. The key is
therefore *derived*, not drawn at random: HMAC-SHA256 under a key derived from the server's
seed key over (instance, order number, sequence). `send_license_key_email` re-derives it
when it sends; the database keeps only a keyed hash. A database dump alone reveals no key,
and the trust boundary is the one that already guards every token seed. Derivation also
makes a resend crash-safe: a retry derives the same key and the email sender's idempotency
key sees the same message, where a random key would mail a second, different key.
"""

from __future__ import annotations

from typing import Any, NoReturn

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.registry import FieldErrors, HandlerContext
from handlers import crockford, ratelimit, registry
from handlers.domain_models import LicenseKey, SalesOrder
from handlers.notifications import send_email
from handlers.orders import iso, order_of
from handlers.proofing_models import code_digest

GROUPS, GROUP_LENGTH = 4, 4
KEY_LENGTH = GROUPS * GROUP_LENGTH

FIELD = "license_key"
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


# -- issuing -----------------------------------------------------------------------------


def _issue(ctx: HandlerContext, order: SalesOrder) -> tuple[LicenseKey, str]:
    """The key this task issued (a repeated run finds it), or a new one with the next
    sequence number of the order."""
    seed_key = ctx.services.seed_key
    row = ctx.session.scalars(
        select(LicenseKey).where(LicenseKey.issued_by_task == ctx.task_id)
    ).first()
    if row is None:
        last = ctx.session.scalar(
            select(func.max(LicenseKey.sequence)).where(
                LicenseKey.order_number == order.order_number
            )
        )
        sequence = (last or 0) + 1
        clear = derive_key(seed_key, ctx.instance_id, order.order_number, sequence)
        row = LicenseKey(
            order_number=order.order_number,
            sequence=sequence,
            instance_id=ctx.instance_id,
            issued_by_task=ctx.task_id,
            key_hash=key_hash(seed_key, clear.replace("-", "")),
            status="issued",
            issued_at=ctx.now,
        )
        ctx.session.add(row)
        ctx.session.flush()
        ctx.audit("license_key.issued", order_number=order.order_number, sequence=sequence)
    return row, derive_key(seed_key, row.instance_id, row.order_number, row.sequence)


def _latest(session: Session, order_number: str) -> LicenseKey | None:
    return session.scalars(
        select(LicenseKey)
        .where(LicenseKey.order_number == order_number)
        .order_by(LicenseKey.sequence.desc())
        .with_for_update()
    ).first()


def _require_paid(order: SalesOrder) -> None:
    if order.status != "paid":
        raise RuntimeError(f"order {order.order_number} is {order.status}: no key before payment")


@registry.handler()
def generate_license_key(ctx: HandlerContext) -> dict[str, Any]:
    """Issue the order's key; only its hash is stored and nothing of it enters task data."""
    order = order_of(ctx, lock=True)
    _require_paid(order)
    current = _latest(ctx.session, order.order_number)
    row = current if current is not None else _issue(ctx, order)[0]
    return {"license_key_issued_at": iso(row.issued_at), "license_key_status": row.status}


@registry.handler()
def send_license_key_email(ctx: HandlerContext) -> dict[str, Any]:
    """Email the order's current key. A failing sender raises, so the engine retries and
    then opens an incident; the diagram's 24-hour timer alerts support meanwhile."""
    order = order_of(ctx, lock=True)
    row = _latest(ctx.session, order.order_number)
    if row is None:
        raise RuntimeError(f"order {order.order_number} has no license key to send")
    if row.emailed_at is None:
        clear = derive_key(ctx.services.seed_key, row.instance_id, row.order_number, row.sequence)
        send_email(ctx, "license_key", order_number=order.order_number, license_key=clear)
        row.emailed_at = ctx.now
        ctx.audit("license_key.emailed", order_number=order.order_number)
    return {"license_key_sent_at": iso(row.emailed_at)}


@registry.handler()
def resend_license_key(ctx: HandlerContext) -> dict[str, Any]:
    """Support resends (after the SLA breach, or at the customer's request): a new key
    replaces the unused one, so a key that went astray stops working; it is issued here if
    none ever was. A used or inactive key is not replaced."""
    order = order_of(ctx, lock=True)
    _require_paid(order)
    current = _latest(ctx.session, order.order_number)
    if current is not None and current.issued_by_task != ctx.task_id:
        if current.status in ("used", "inactive"):
            return {"license_key_resent": False, "license_key_status": current.status}
        current.status = "replaced"
        ctx.session.flush()
    row, clear = _issue(ctx, order)
    send_email(ctx, "license_key_resend", order_number=order.order_number, license_key=clear)
    row.emailed_at = row.emailed_at or ctx.now
    ctx.audit("license_key.resent", order_number=order.order_number, sequence=row.sequence)
    return {"license_key_resent": True, "license_key_sent_at": iso(row.emailed_at)}


def deactivate_license_key(session: Session, instance_id: str) -> int:
    """Make the key used in `instance_id` inactive (proofing failed for good); returns how
    many keys changed. For the proofing handlers, which end the journey."""
    result = session.execute(
        update(LicenseKey)
        .where(LicenseKey.used_in_instance_id == instance_id, LicenseKey.status == "used")
        .values(status="inactive")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# -- entry -------------------------------------------------------------------------------


@registry.validator()
def check_license_key(ctx: HandlerContext, values: dict[str, Any]) -> dict[str, Any]:
    """Accept an issued key of a paid order (any order: a key is transferable until used),
    mark it used by this customer, and take over what the journey needs from the order it
    came from (see `_taken_from_order`). Refusals are counted per instance and per
    customer; too many lock entry for a while."""
    subjects = _subjects(ctx)
    try:
        for scope, subject in subjects:
            ratelimit.check_allowed(ctx.session, scope, subject, ctx.now)
    except ratelimit.RateLimited as limited:
        raise FieldErrors({FIELD: limited.message}) from None
    compact = normalize(values.get(FIELD))
    row = None
    if compact is not None:
        row = ctx.session.scalars(
            select(LicenseKey)
            .where(LicenseKey.key_hash == key_hash(ctx.services.seed_key, compact))
            .with_for_update()
        ).first()
    if compact is None or row is None or row.status != "issued":
        problem = "malformed" if compact is None else "unknown" if row is None else row.status
        _refuse(ctx, subjects, problem)
    bought = ctx.session.scalars(
        select(SalesOrder).where(SalesOrder.order_number == row.order_number).with_for_update()
    ).one()
    if bought.status != "paid":  # cancelled after the key went out
        _refuse(ctx, subjects, "inactive")
    row.status, row.used_at = "used", ctx.now
    row.used_by_owner_id, row.used_in_instance_id = ctx.owner_id, ctx.instance_id
    for scope, subject in subjects:
        ratelimit.reset(ctx.session, scope, subject)
    ctx.audit("license_key.used", order_number=row.order_number)
    return {
        # The clear key would otherwise stay in task data; the last group is enough to
        # recognise it.
        FIELD: "XXXX-XXXX-XXXX-" + compact[-GROUP_LENGTH:],
        "license_order_number": row.order_number,
        "license_key_status": "used",
        **_taken_from_order(ctx, bought),
    }


def _taken_from_order(ctx: HandlerContext, bought: SalesOrder) -> dict[str, Any]:
    """What the journey takes over from the order the accepted key came from.

    A journey that bought nothing (`already_purchased`) becomes that order's journey: its
    number (also as business key, the number the customer and staff quote), product
    (with proofing or not), payment date (the subscription runs from it) and token, which
    the buyer hands over; `purchase_skipped` tells the diagram that no shipping branch
    runs. A journey with an order of its own keeps it; a key from another order brings
    that order's token as `license_token_serial`, not `token_serial`, which the shipping
    branch running in parallel owns (the merge at the join would pick either)."""
    own = ctx.session.scalar(
        select(SalesOrder.order_number).where(SalesOrder.instance_id == ctx.instance_id)
    )
    if own is None:
        ctx.set_business_key(bought.order_number)
        return {
            "purchase_skipped": True,
            "order_number": bought.order_number,
            "order_status": bought.status,
            "product": bought.product,
            "paid_at": iso(bought.paid_at),
            "token_serial": bought.token_serial,
        }
    if own == bought.order_number:
        return {"purchase_skipped": False}
    return {"purchase_skipped": False, "license_token_serial": bought.token_serial}


def _subjects(ctx: HandlerContext) -> list[tuple[str, str]]:
    subjects = [("license_key:instance", ctx.instance_id)]
    if ctx.owner_id is not None:
        subjects.append(("license_key:owner", str(ctx.owner_id)))
    return subjects


def _refuse(ctx: HandlerContext, subjects: list[tuple[str, str]], problem: str) -> NoReturn:
    """Count the failure (the engine commits it although the task stays open) and refuse."""
    left = min(
        ratelimit.record_failure(ctx.session, scope, subject, ctx.now, LIMIT)
        for scope, subject in subjects
    )
    ctx.audit("license_key.refused", reason=problem)
    message = MESSAGES[problem]
    if left == 0:
        minutes = int(LIMIT.lockout.total_seconds() // 60)
        message = f"{message} Too many attempts. Try again in {minutes} minutes."
    raise FieldErrors({FIELD: message})
