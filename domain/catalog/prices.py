"""Prices: quoting a product, and changing its price for the quotes that follow.

A price is quoted when the customer chooses a product and that quote travels with the
instance: checkout shows it, the card is charged it, the order keeps it. A price changed
later by an admin or analyst applies to the next quote, never to an order already placed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.catalog.models import Product
from engine import audit
from engine.db import utcnow

CATALOG_SUBJECT = "catalog"


MAX_PRICE_CENTS = 100_000_00


# choose_product's option for a key bought in another order: not a product of the catalog.
ALREADY_PURCHASED = "already_purchased"


@dataclass(frozen=True)
class Quote:
    """A product at the unit price it is sold at; an order charges it times its quantity."""

    product: str
    name: str
    unit_price_cents: int
    currency: str

    @property
    def total_cents(self) -> int:
        return self.unit_price_cents

    def variables(self) -> dict[str, Any]:
        return {
            "product_name": self.name,
            "unit_price_cents": self.unit_price_cents,
            "currency": self.currency,
            "total_cents": self.total_cents,
        }


class UnknownProduct(LookupError):
    pass


def products(session: Session) -> list[Product]:
    return list(session.scalars(select(Product).order_by(Product.id)))


def current_quote(session: Session, sku: object) -> Quote:
    product = session.scalars(select(Product).where(Product.sku == sku)).first()
    if product is None:
        raise UnknownProduct(f"unknown product {sku!r}")
    return Quote(product.sku, product.name, product.price_cents, product.currency)


def chosen_quote(session: Session, sku: object) -> Quote | None:
    """The quote for the product a customer just chose, fixed for their order from now
    on; None for a customer who already holds a license key (`ALREADY_PURCHASED`), who
    buys nothing. UnknownProduct when it is no longer sold."""
    return None if sku == ALREADY_PURCHASED else current_quote(session, sku)


def quote_in(session: Session, data: Mapping[str, object]) -> Quote:
    """The quote an instance's data carries (`Quote.variables` and `product`); instances
    that chose their product before quotes existed get today's price."""
    price, currency, name = (data.get(k) for k in ("unit_price_cents", "currency", "product_name"))
    if isinstance(price, int) and isinstance(currency, str) and isinstance(name, str):
        return Quote(str(data.get("product")), name, price, currency)
    return current_quote(session, data.get("product"))


def parse_price(text: str) -> int:
    """`49`, `49.5` or `49.00` (an optional `$`) as cents; ValueError says what is expected."""
    cleaned = text.strip().lstrip("$").replace(",", "").strip()
    whole, _, fraction = cleaned.partition(".")
    if not whole.isdigit() or (fraction and not (fraction.isdigit() and len(fraction) <= 2)):
        raise ValueError("Enter a price such as 49.00.")
    cents = int(whole) * 100 + int(fraction.ljust(2, "0") or 0)
    if cents > MAX_PRICE_CENTS:
        raise ValueError(f"Enter a price of at most {MAX_PRICE_CENTS // 100}.00.")
    return cents


def set_price(session: Session, sku: str, price_cents: int, actor: str) -> Product:
    """Change a product's price for orders quoted from now on; audited."""
    product = session.scalars(select(Product).where(Product.sku == sku).with_for_update()).first()
    if product is None:
        raise UnknownProduct(f"unknown product {sku!r}")
    if product.price_cents != price_cents:
        previous = product.price_cents
        product.price_cents, product.updated_at, product.updated_by = price_cents, utcnow(), actor
        audit.record(
            session,
            "catalog.price_changed",
            subject=CATALOG_SUBJECT,
            actor=actor,
            product=sku,
            previous_cents=previous,
            price_cents=price_cents,
        )
    return product
