"""Helper actions for purchase and license-key journeys: buy, read the outbox, search
every table for a value that must not be stored."""

from __future__ import annotations

import dataclasses
import re
import smtplib
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from domain.services import build_services
from engine.actors import Actor
from engine.db import unit_of_work
from service_layer.config import Config
from service_layer.system import System
from tests.builders import CUSTOMER, Journey, journey_system
from tokenflow.schema import metadata

APPROVED_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
CHECKOUT: dict[str, Any] = {
    "payment_method": "card",
    "ship_name": "Jane Doe",
    "ship_street": "12 Birch Road",
    "ship_city": "Springfield",
    "ship_postal_code": "62704",
    "ship_country": "US",
    "billing_same_as_shipping": True,
    "disclaimer_accepted": True,
    "card_number": APPROVED_CARD,
    "card_expiry": "12/39",
    "card_cvc": "737",
}
INVOICE_CHECKOUT = {
    **{k: v for k, v in CHECKOUT.items() if not k.startswith("card_")},
    "payment_method": "invoice",
    "po_number": "PO-4711",
}
LICENSE_KEY = re.compile(r"\b[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}\b")


def buy(
    system: System,
    actor: Actor = CUSTOMER,
    product: str = "token_without_proofing",
    **checkout: Any,
) -> Journey:
    """Start a journey and check out (by approved card unless told otherwise)."""
    journey = Journey(system, actor)
    journey.start()
    journey.complete("choose_product", {"product": product})
    journey.complete("checkout", {**CHECKOUT, **checkout})
    return journey


def emails(system: System) -> list[EmailMessage]:
    """Every email in the outbox, oldest first (file names sort by the second only)."""
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
        for path in sorted(
            system.config.outbox_dir.glob("*-email-*.eml"), key=lambda p: p.stat().st_mtime_ns
        )
    ]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return body.get_content()


def emails_about(system: System, subject_part: str) -> list[EmailMessage]:
    return [m for m in emails(system) if subject_part in str(m["Subject"])]


def license_keys_emailed(system: System, order_number: str) -> list[str]:
    """The keys emailed for an order, oldest first."""
    keys = []
    for message in emails_about(system, f"license key for order {order_number}"):
        found = LICENSE_KEY.search(text_of(message))
        assert found, text_of(message)
        keys.append(found.group(0))
    return keys


def stored_text(system: System) -> str:
    """Every row of every table as text: what a database dump would show."""
    rows = []
    with unit_of_work(system.session_factory) as s:
        for table in metadata.sorted_tables:
            rows.extend(repr(tuple(row)) for row in s.execute(select(table)))
    return "\n".join(rows)


class BrokenMailServer:
    """An email sender whose license key emails fail, as if the SMTP server were down,
    until `repaired`; other emails go out normally."""

    def __init__(self, sender) -> None:
        self.sender = sender
        self.repaired = False

    def send(self, to, subject, text_body, html_body=None, *, idempotency_key):
        if "license key" in subject and not self.repaired:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return self.sender.send(to, subject, text_body, html_body, idempotency_key=idempotency_key)


def system_with_broken_mail(config: Config) -> tuple[System, BrokenMailServer]:
    """A system on the real diagrams whose license key emails fail until repaired."""
    services = build_services(config)
    broken = BrokenMailServer(services.adapters.email)
    adapters = dataclasses.replace(services.adapters, email=broken)
    system = journey_system(config, dataclasses.replace(services, adapters=adapters))
    return system, broken
