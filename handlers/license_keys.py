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

from domain import crockford, ratelimit
from domain.codes import code_digest
from domain.license_keys.models import LicenseKey
from domain.orders.models import SalesOrder
from domain.tokens.models import HardwareToken
from engine.registry import FieldErrors, HandlerContext
from handlers import registry
from handlers.notifications import send_email
from handlers.orders import iso, order_of

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


def _issue(ctx: HandlerContext, order: SalesOrder, position: int) -> LicenseKey:
    """The key this task issued for `position` (a repeated run finds it), or a new one
    with the order's next sequence number."""
    task = ctx.task_id if position == 1 else f"{ctx.task_id}/{position}"
    row = ctx.session.scalars(select(LicenseKey).where(LicenseKey.issued_by_task == task)).first()
    if row is None:
        last = ctx.session.scalar(
            select(func.max(LicenseKey.sequence)).where(
                LicenseKey.order_number == order.order_number
            )
        )
        sequence = (last or 0) + 1
        clear = derive_key(ctx.services.seed_key, ctx.instance_id, order.order_number, sequence)
        row = LicenseKey(
            order_number=order.order_number,
            sequence=sequence,
            position=position,
            instance_id=ctx.instance_id,
            issued_by_task=task,
            key_hash=key_hash(ctx.services.seed_key, clear.replace("-", "")),
            status="issued",
            issued_at=ctx.now,
        )
        ctx.session.add(row)
        ctx.session.flush()
        ctx.audit("license_key.issued", order_number=order.order_number, sequence=sequence)
    return row


def _clear(ctx: HandlerContext, row: LicenseKey) -> str:
    return derive_key(ctx.services.seed_key, row.instance_id, row.order_number, row.sequence)


def _current(session: Session, order_number: str) -> list[LicenseKey]:
    """The order's keys that stand, one per position (a replaced key stands no more)."""
    return list(
        session.scalars(
            select(LicenseKey)
            .where(LicenseKey.order_number == order_number, LicenseKey.status != "replaced")
            .order_by(LicenseKey.position)
            .with_for_update()
        )
    )


def _require_paid(order: SalesOrder) -> None:
    if order.status != "paid":
        raise RuntimeError(f"order {order.order_number} is {order.status}: no key before payment")


@registry.handler()
def generate_license_key(ctx: HandlerContext) -> dict[str, Any]:
    """Issue the order's keys, one per token; only their hashes are stored and nothing
    of them enters task data."""
    order = order_of(ctx, lock=True)
    _require_paid(order)
    rows = _current(ctx.session, order.order_number) or [
        _issue(ctx, order, position) for position in range(1, order.quantity + 1)
    ]
    return {"license_key_issued_at": iso(rows[0].issued_at), "license_key_status": rows[0].status}


@registry.handler()
def send_license_key_email(ctx: HandlerContext) -> dict[str, Any]:
    """Email the order's keys, all in one email to the buyer, who hands them on. A failing
    sender raises, so the engine retries and then opens an incident; the diagram's 24-hour
    timer alerts support meanwhile."""
    order = order_of(ctx, lock=True)
    rows = _current(ctx.session, order.order_number)
    if not rows:
        raise RuntimeError(f"order {order.order_number} has no license key to send")
    unsent = [row for row in rows if row.emailed_at is None]
    if unsent:
        keys = [_clear(ctx, row) for row in unsent]
        send_email(ctx, "license_key", order_number=order.order_number, license_keys=keys)
        for row in unsent:
            row.emailed_at = ctx.now
        ctx.audit("license_key.emailed", order_number=order.order_number, count=len(unsent))
    return {"license_key_sent_at": iso(max(row.emailed_at or ctx.now for row in rows))}


@registry.handler()
def resend_license_key(ctx: HandlerContext) -> dict[str, Any]:
    """Support resends (after the SLA breach, or at the customer's request): new keys
    replace the unused ones, so a key that went astray stops working; they are issued here
    if none ever was. Used and inactive keys are not replaced."""
    order = order_of(ctx, lock=True)
    _require_paid(order)
    current = _current(ctx.session, order.order_number)
    rows = [row for row in current if row.issued_by_task.split("/")[0] == ctx.task_id]
    if not rows:  # not a repeated run of this task
        unused = [row for row in current if row.status == "issued"]
        if current and not unused:
            return {"license_key_resent": False, "license_key_status": current[0].status}
        positions = [row.position for row in unused] or range(1, order.quantity + 1)
        for row in unused:
            row.status = "replaced"
        ctx.session.flush()
        rows = [_issue(ctx, order, position) for position in positions]
    keys = [_clear(ctx, row) for row in rows]
    send_email(ctx, "license_key_resend", order_number=order.order_number, license_keys=keys)
    for row in rows:
        row.emailed_at = row.emailed_at or ctx.now
        ctx.audit("license_key.resent", order_number=order.order_number, sequence=row.sequence)
    return {"license_key_resent": True, "license_key_sent_at": iso(rows[0].emailed_at)}


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
        **_taken_from_order(ctx, bought, _token_of(ctx, row)),
    }


def _token_of(ctx: HandlerContext, row: LicenseKey) -> str | None:
    """The serial of the token that goes with the key: the order's n-th token for the
    key at position n (None while the order's tokens are not allocated yet)."""
    return ctx.session.scalar(
        select(HardwareToken.serial)
        .where(HardwareToken.order_number == row.order_number)
        .order_by(HardwareToken.id)
        .offset(row.position - 1)
        .limit(1)
    )


def _taken_from_order(
    ctx: HandlerContext, bought: SalesOrder, token_serial: str | None
) -> dict[str, Any]:
    """What the journey takes over from the order the accepted key came from, with the
    key's token (`license_token_serial`), which registration binds.

    A journey that bought nothing (`already_purchased`) becomes that order's journey: its
    number (also as business key, the number the customer and staff quote), product
    (with proofing or not), payment date (the subscription runs from it) and token, which
    the buyer hands over; `purchase_skipped` tells the diagram that no shipping branch
    runs. A journey with an order of its own keeps it and its `token_serial`, which the
    shipping branch running in parallel owns (the merge at the join would pick either)."""
    own = ctx.session.scalar(
        select(SalesOrder.order_number).where(SalesOrder.instance_id == ctx.instance_id)
    )
    taken: dict[str, Any] = {"purchase_skipped": own is None, "license_token_serial": token_serial}
    if own is None:
        ctx.set_business_key(bought.order_number)
        taken.update(
            order_number=bought.order_number,
            order_status=bought.status,
            product=bought.product,
            paid_at=iso(bought.paid_at),
            token_serial=token_serial,
        )
    return taken


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
