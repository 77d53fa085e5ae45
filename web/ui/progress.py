"""Where a customer's journey stands: six steps from payment to a registered token,
computed from the instance's active elements, its variables, the tasks already done and
the sales order the handlers keep. Pure functions: no Flask, no database."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from .filters import day, when

PURCHASE_TASKS = {"choose_product", "checkout"}
PROOFING_TASKS = {
    "choose_proofing_method",
    "experian_identity",
    "experian_questions",
    "schedule_video_proofing",
    "video_proofing_interview",
}
REGISTRATION_TASKS = {"register_token", "register_phone", "verify_phone"}


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    state: str  # done, current, todo, failed or skipped
    detail: str = ""


def steps(
    view: Mapping[str, Any],
    order: Mapping[str, Any] | None,
    completed: Collection[str],
) -> list[Step]:
    v = view.get("variables") or {}
    order = order or {}
    active = set(view.get("active") or [])
    done_tasks = set(completed)
    paid = v.get("order_status") == "paid" or bool(order.get("paid_at"))
    cancelled = v.get("order_status") == "cancelled" or order.get("status") == "cancelled"
    registered = bool(v.get("credential_expires_at")) or "register_token" in done_tasks
    activated = (
        "activate_token" in done_tasks
        or bool(v.get("activated_at"))
        or bool(active & REGISTRATION_TASKS)
        or registered
    )
    holder = key_bought_elsewhere(v)
    return [
        _paid_elsewhere(v) if holder else _payment(v, order, active, paid, cancelled),
        _handed_over(v) if holder else _shipping(v, order, paid),
        _license_key(v, order, paid, active, done_tasks),
        _proofing(v, active, activated),
        _activation(active, activated),
        _registration(v, active, registered, activated),
    ]


def key_bought_elsewhere(v: Mapping[str, Any]) -> bool:
    """The customer chose "I already have a license key": someone else's order paid for
    the token and ships it to them (until the key is accepted, `product` says so; then
    the journey takes over the order's product and `purchase_skipped` says so)."""
    return v.get("product") == "already_purchased" or v.get("purchase_skipped") is True


def _paid_elsewhere(v: Mapping[str, Any]) -> Step:
    number = v.get("order_number")
    if not number:
        return Step("paid", "Paid", "skipped", "Someone else bought your token.")
    when = day(v.get("paid_at"))
    on = f" on {when}" if when else ""
    return Step(
        "paid", "Paid", "done", f"Paid with order {number}{on}, whose license key you entered."
    )


def _handed_over(v: Mapping[str, Any]) -> Step:
    serial = v.get("token_serial")
    token = f"token {serial}" if serial else "your token"
    return Step("shipped", "Shipped", "skipped", f"The buyer hands {token} over to you.")


def _payment(
    v: Mapping[str, Any], order: Mapping[str, Any], active: set[str], paid: bool, cancelled: bool
) -> Step:
    """The first step, titled by where it stands: "Check out", "Payment", "Paid" or
    "Cancelled" (never "Paid" before the money came)."""
    if cancelled:
        if v.get("refunded_at") or order.get("refunded_at"):
            detail = "You cancelled the order and your payment was refunded."
        elif paid:
            detail = "The order was cancelled."
        else:
            detail = "The order was cancelled: the invoice was not paid."
        return Step("paid", "Cancelled", "failed", detail)
    if paid:
        how = "by card" if v.get("payment_method") == "card" else "by invoice"
        when = day(v.get("paid_at") or order.get("paid_at"))
        return Step("paid", "Paid", "done", f"Paid {how} on {when}." if when else f"Paid {how}.")
    if active & PURCHASE_TASKS:
        return Step("paid", "Check out", "current", "Choose your product and check out.")
    invoice = v.get("invoice_number") or order.get("invoice_number")
    if invoice:
        return Step("paid", "Payment", "current", f"Waiting for payment of invoice {invoice}.")
    return Step("paid", "Payment", "current", "Processing your payment.")


def _shipping(v: Mapping[str, Any], order: Mapping[str, Any], paid: bool) -> Step:
    title = "Shipped"
    tracking = v.get("tracking_number") or order.get("tracking_number")
    if tracking:
        delivered = v.get("delivered_at") or order.get("delivered_at")
        expected = v.get("estimated_delivery") or order.get("estimated_delivery")
        events = order.get("tracking_events") or []
        if delivered:
            tail = f"Delivered on {day(delivered)}."
        elif events and events[-1]["status"] == "out_for_delivery":
            tail = "Out for delivery."
        elif expected:
            tail = f"Expected by {day(expected)}."
        else:
            tail = "On its way."
        return Step("shipped", title, "done", f"Tracking number {tracking}. {tail}")
    if paid:
        return Step("shipped", title, "current", "We are preparing your token for shipping.")
    return Step("shipped", title, "todo")


def _license_key(
    v: Mapping[str, Any],
    order: Mapping[str, Any],
    paid: bool,
    active: set[str],
    done_tasks: set[str],
) -> Step:
    title = "License key emailed"
    sent = v.get("license_key_sent_at") or order.get("license_key_emailed_at")
    if "enter_license_key" in active:
        if key_bought_elsewhere(v):
            return Step("key", title, "current", "Enter the license key you were given.")
        detail = f"Sent by email on {day(sent)}. Enter it now." if sent else "Enter it now."
        return Step("key", title, "current", detail)
    if "confirm_profile" in active:
        return Step("key", title, "current", "Key accepted. Confirm your legal name.")
    if "enter_license_key" in done_tasks:
        return Step("key", title, "done", "You entered your license key.")
    if sent:
        return Step("key", title, "done", f"Sent by email on {day(sent)}.")
    if paid:
        return Step("key", title, "current", "We are emailing your license key.")
    return Step("key", title, "todo")


def _proofing(v: Mapping[str, Any], active: set[str], activated: bool) -> Step:
    title = "Identity proofing"
    if v.get("product") == "token_without_proofing":
        return Step("proofing", title, "skipped", "Not part of your product.")
    if v.get("proofing_result") == "failed":
        return Step(
            "proofing", title, "failed", "Your identity could not be proven. Contact support."
        )
    if v.get("proofing_result") == "passed" and v.get("activation_code_required") is False:
        # An instant check: nothing more to type, the token is activated with it.
        return Step("proofing", title, "done", "Identity verified.")
    if v.get("proofing_result") == "passed" or activated:
        return Step("proofing", title, "done", "Your identity is proven.")
    if "call_identity_proofing" in active or active & PROOFING_TASKS:
        if v.get("appointment_at") and "schedule_video_proofing" not in active:
            detail = f"Video interview booked for {when(v['appointment_at'])}."
        else:
            detail = "Prove your identity online or in a video interview."
        return Step("proofing", title, "current", detail)
    return Step("proofing", title, "todo")


def _activation(active: set[str], activated: bool) -> Step:
    title = "Activated"
    if activated:
        return Step("activation", title, "done", "Your token is activated.")
    if "activate_token" in active:
        return Step("activation", title, "current", "Activate your token.")
    return Step("activation", title, "todo")


def _registration(
    v: Mapping[str, Any], active: set[str], registered: bool, activated: bool
) -> Step:
    title = "Registered"
    if registered:
        until = v.get("credential_expires_at")
        detail = f"Your credential is active until {day(until)}." if until else "Registered."
        return Step("registered", title, "done", detail)
    if "register_token" in active:
        return Step("registered", title, "current", "Register your token with two codes.")
    if activated:
        return Step(
            "registered", title, "current", "Registration opens as soon as your token arrives."
        )
    return Step("registered", title, "todo")


def next_hint(all_steps: list[Step], status: str) -> str:
    """What the customer should expect when no task waits for them."""
    if status == "completed":
        return "All done: your token is registered and ready to use."
    if status == "terminated":
        return "This order has ended. Contact support if you have questions."
    if status == "suspended":
        return "This order is on hold. Our team will get in touch."
    current = next((s for s in all_steps if s.state == "current"), None)
    if current is not None and current.detail:
        return f"Nothing to do right now. {current.detail} We will email you."
    return "Nothing to do right now. We will email you when something changes."
