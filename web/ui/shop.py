"""The shop's pages: prices on the product form, the order summary and pay button at
checkout, the receipt, the printable invoice, the terms of sale, and the catalog where
admins and analysts change prices."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from domain.catalog.prices import parse_price
from engine.errors import NotFound
from service_layer.reads import pages as reads
from service_layer.reads import shop as shop_reads

from . import guard
from .filters import money

bp = Blueprint("shop", __name__)
KEY_FROM_BUYER = (
    "The key the buyer of your token gave you, from the email we sent them. Copy it exactly; "
    "it works only once."
)
NO_CODE_NEEDED = (
    "Your token needs no activation code. Activate it now, and register it as soon as it "
    "arrives with two codes it shows."
)
# Seller details printed on invoices and receipts.
SELLER = ("Tokenflow Credentials Inc.", "100 Main Street", "Springfield, IL 62701", "USA")


def task_extras(
    fields: list[dict[str, Any]],
    task_name: str,
    variables: dict[str, Any],
    values: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(fields, extras) for a task page: prices beside the product choices; the order
    summary (unit price times the quantity the form shows), the pay button's label and
    the terms link at checkout; where the key comes from for someone who was given one;
    no code field on "Activate token" when no code was issued
    (`check_activation_code` then asks for none either)."""
    if task_name == "choose_product":
        products = shop_reads.products(guard.system())
        prices = {p["sku"]: money(p["price_cents"], p["currency"]) for p in products}
        return [_priced(f, prices) if f["id"] == "product" else f for f in fields], {}
    if task_name == "checkout":
        terms = {"url": url_for("shop.terms"), "text": "Read the terms of sale"}
        linked = [{**f, "link": terms} if f["id"] == "disclaimer_accepted" else f for f in fields]
        summary = shop_reads.quote(guard.system(), variables)
        if summary:
            summary = shop_reads.times(summary, (values or {}).get("quantity"))
        pay = f"Pay {money(summary['total_cents'], summary['currency'])}" if summary else "Pay"
        return linked, {"summary": summary, "pay_label": pay}
    if task_name == "enter_license_key" and variables.get("product") == "already_purchased":
        # The customer's key came from the buyer, not from an email of ours to them.
        given = [{**f, "help": KEY_FROM_BUYER} if f["id"] == "license_key" else f for f in fields]
        return given, {}
    if task_name == "activate_token" and not variables.get("activation_code_required"):
        # No proofing issued a code (none was bought): nothing to type, only a yes.
        kept = [f for f in fields if f["id"] != "activation_code"]
        return kept, {"intro": NO_CODE_NEEDED, "submit_label": "Activate token"}
    return fields, {}


def _priced(field: dict[str, Any], prices: dict[str, str]) -> dict[str, Any]:
    options = [{**o, "price": prices.get(o["id"])} for o in field.get("options") or []]
    return {**field, "options": options}


@bp.get("/terms")
@guard.public
def terms() -> Any:
    return render_template("shop/terms.html", seller=SELLER)


def _order(instance_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The instance (404 for someone else's) and its order (404 before it exists)."""
    view = guard.system().engine.instance(instance_id, guard.actor())
    document = shop_reads.order_document(guard.system(), instance_id)
    if document is None:
        abort(404, "This order has no order number yet.")
    return view, document


@bp.get("/orders/<instance_id>/receipt")
@guard.login_required()
def receipt(instance_id: str) -> Any:
    view, order = _order(instance_id)
    return render_template(
        "shop/receipt.html",
        view=view,
        order=order,
        ship_to=shop_reads.address(view["variables"], "ship"),
        waiting=reads.my_tasks(guard.system(), guard.actor(), instance_id),
    )


@bp.get("/orders/<instance_id>/invoice")
@guard.login_required()
def invoice(instance_id: str) -> Any:
    view, order = _order(instance_id)
    return render_template(
        "shop/invoice.html",
        view=view,
        order=order,
        seller=SELLER,
        bill_to=shop_reads.address(view["variables"], "bill"),
        ship_to=shop_reads.address(view["variables"], "ship"),
    )


@bp.get("/orders/<instance_id>/cancel")
@guard.login_required("customer")
def confirm_cancel(instance_id: str) -> Any:
    view, order = _order(instance_id)
    if not shop_reads.cancellable(guard.system(), instance_id):
        flash("This order can no longer be cancelled.", "error")
        return redirect(url_for("customer.order", instance_id=instance_id))
    return render_template("shop/cancel.html", view=view, order=order)


@bp.post("/orders/<instance_id>/cancel")
@guard.login_required("customer")
def cancel(instance_id: str) -> Any:
    """The customer's own order only (`_order` is 404 for anyone else's)."""
    _view, order = _order(instance_id)
    number = order["order_number"]
    if not shop_reads.cancellable(guard.system(), instance_id):  # shipped meanwhile
        flash(f"Order {number} can no longer be cancelled.", "error")
        return redirect(url_for("customer.order", instance_id=instance_id))
    try:
        guard.system().engine.correlate(shop_reads.CANCEL_MESSAGE, number, {}, guard.actor())
    except NotFound:  # shipped meanwhile
        flash(f"Order {number} can no longer be cancelled.", "error")
    else:
        flash(f"Order {number} is cancelled. We sent you an email.")
    return redirect(url_for("customer.order", instance_id=instance_id))


@bp.get("/catalog")
@guard.login_required("analyst")
def catalog() -> Any:
    return render_template("shop/catalog.html", products=shop_reads.products(guard.system()))


@bp.post("/catalog/<sku>")
@guard.login_required("analyst")
def change_price(sku: str) -> Any:
    known = {p["sku"]: p for p in shop_reads.products(guard.system())}
    if sku not in known:
        abort(404, "No such product.")
    try:
        cents = parse_price(request.form.get("price", "")[:20])
    except ValueError as exc:
        flash(f"{known[sku]['name']}: {exc}", "error")
        return redirect(url_for("shop.catalog"))
    shop_reads.change_price(guard.system(), guard.actor(), sku, cents)
    flash(f"{known[sku]['name']} now costs {money(cents, known[sku]['currency'])}.")
    return redirect(url_for("shop.catalog"))
