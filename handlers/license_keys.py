"""License keys: issue, email, resend, and check the key a customer types.

The keys' format, derivation (the clear key never travels in task data: it is derived
again when sent), issuing and redeeming are `domain.license_keys.keys`; these handlers
email the keys and say in variables what the journey needs.
"""

from __future__ import annotations

from typing import Any

from domain.license_keys import keys
from domain.license_keys.keys import Issuer, KeyRefused
from domain.orders import orders
from domain.orders.models import SalesOrder
from engine.registry import FieldErrors, HandlerContext
from handlers import registry
from handlers.notifications import send_email
from handlers.orders import iso, order_of

FIELD = "license_key"


def _issuer(ctx: HandlerContext) -> Issuer:
    return Issuer(
        ctx.session, ctx.services.seed_key, ctx.instance_id, ctx.task_id, ctx.now, ctx.audit
    )


@registry.handler()
def generate_license_key(ctx: HandlerContext) -> dict[str, Any]:
    """Issue the order's keys, one per token; only their hashes are stored and nothing
    of them enters task data."""
    order = order_of(ctx, lock=True)
    rows = keys.issue_keys(_issuer(ctx), order)
    return {"license_key_issued_at": iso(rows[0].issued_at), "license_key_status": rows[0].status}


@registry.handler()
def send_license_key_email(ctx: HandlerContext) -> dict[str, Any]:
    """Email the order's keys, all in one email to the buyer, who hands them on. A failing
    sender raises, so the engine retries and then opens an incident; the diagram's 24-hour
    timer alerts support meanwhile."""
    order = order_of(ctx, lock=True)
    rows = keys.current_keys(ctx.session, order.order_number)
    if not rows:
        raise RuntimeError(f"order {order.order_number} has no license key to send")
    unsent = [row for row in rows if row.emailed_at is None]
    if unsent:
        clear = [keys.clear_key(ctx.services.seed_key, row) for row in unsent]
        send_email(ctx, "license_key", order_number=order.order_number, license_keys=clear)
        keys.mark_emailed(unsent, ctx.now)
        ctx.audit("license_key.emailed", order_number=order.order_number, count=len(unsent))
    return {"license_key_sent_at": iso(max(row.emailed_at or ctx.now for row in rows))}


@registry.handler()
def resend_license_key(ctx: HandlerContext) -> dict[str, Any]:
    """Support resends (after the SLA breach, or at the customer's request): new keys
    replace the unused ones, so a key that went astray stops working; they are issued here
    if none ever was. Used and inactive keys are not replaced."""
    order = order_of(ctx, lock=True)
    reissued = keys.reissue_keys(_issuer(ctx), order)
    if not reissued.keys:
        return {"license_key_resent": False, "license_key_status": reissued.status}
    rows = reissued.keys
    clear = [keys.clear_key(ctx.services.seed_key, row) for row in rows]
    send_email(ctx, "license_key_resend", order_number=order.order_number, license_keys=clear)
    keys.mark_emailed(rows, ctx.now)
    for row in rows:
        ctx.audit("license_key.resent", order_number=order.order_number, sequence=row.sequence)
    return {"license_key_resent": True, "license_key_sent_at": iso(rows[0].emailed_at)}


# -- entry -------------------------------------------------------------------------------


@registry.validator()
def check_license_key(ctx: HandlerContext, values: dict[str, Any]) -> dict[str, Any]:
    """Accept an issued key of a paid order (any order: a key is transferable until used),
    mark it used by this customer, and take over what the journey needs from the order it
    came from (see `_taken_from_order`). Refusals are counted per instance and per
    customer; too many lock entry for a while."""
    try:
        redeemed = keys.redeem(
            ctx.session,
            ctx.services.seed_key,
            values.get(FIELD),
            ctx.instance_id,
            ctx.owner_id,
            ctx.now,
            ctx.audit,
        )
    except KeyRefused as refused:
        raise FieldErrors({FIELD: refused.message}) from None
    return {
        # The clear key would otherwise stay in task data.
        FIELD: keys.masked(redeemed.compact),
        "license_order_number": redeemed.key.order_number,
        "license_key_status": "used",
        **_taken_from_order(ctx, redeemed.order, redeemed.token_serial),
    }


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
    own = orders.order_of_instance(ctx.session, ctx.instance_id)
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
