from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from adapters.email import (
    TEMPLATE_DIR,
    TEMPLATE_NAMES,
    OutboxEmailSender,
    SmtpEmailSender,
    render_email,
)

NOW = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)
NAME = '<script>alert("x")</script>'
CONTEXTS: dict[str, dict[str, object]] = {
    "order_confirmation": {
        "product": "OTP hardware token with identity proofing",
        "amount_cents": 4900,
        "currency": "USD",
        "payment_method": "card",
    },
    "invoice": {
        "invoice_number": "INV-1",
        "amount_cents": 4900,
        "currency": "USD",
        "due_date": date(2024, 6, 5),
        "po_number": "PO-7",
    },
    "payment_reminder": {
        "invoice_number": "INV-1",
        "amount_cents": 4900,
        "currency": "USD",
        "due_date": date(2024, 6, 5),
        "cancel_on": date(2024, 6, 5),
    },
    "order_cancelled": {"reason": "the invoice was not paid."},
    "license_key": {"license_keys": ["ABCD-EFGH-JKLM"]},
    "license_key_resend": {"license_keys": ["ABCD-EFGH-JKLM", "MNPQ-RSTV-WXYZ"]},
    "token_shipped": {
        "tracking_number": "1Z0000000000000001",
        "estimated_delivery": date(2024, 5, 10),
    },
    "token_delivered": {"delivered_at": NOW},
    "activation_code_by_mail_notice": {"expected_delivery": date(2024, 5, 15)},
    "appointment_confirmation": {"slot": "2024-05-07T09:30:00+00:00", "join_url": "https://v/1"},
    "appointment_reminder": {"slot": NOW, "join_url": "https://v/1"},
    "appointment_missed": {"slot": NOW},
    "appointment_moved": {"slot": "2024-05-07T10:00:00+00:00", "join_url": "https://v/2"},
    "appointment_cancelled": {"slot": "2024-05-07T10:00:00+00:00"},
    "interview_not_passed": {"slot": NOW},
    "proofing_failed": {"attempts_left": 1},
    "registration_complete": {"serial_number": "TF0000001", "expires_on": date(2025, 5, 6)},
    "renewal_reminder": {"expires_on": date(2025, 5, 6)},
    "credential_expired": {"expired_on": date(2025, 5, 6)},
    "failed_logins": {"failures": 100, "since": NOW},
}

# Emails about the person's account rather than an order name no order number.
ABOUT_THE_ACCOUNT = {"failed_logins"}


def read_eml(path: Path) -> EmailMessage:
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_every_journey_email_has_a_template_and_sample_context() -> None:
    assert set(CONTEXTS) == set(TEMPLATE_NAMES)
    on_disk = {path.name.removesuffix(".eml.j2") for path in TEMPLATE_DIR.glob("[!_]*.eml.j2")}
    assert on_disk == set(TEMPLATE_NAMES)


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_template_renders_with_the_order_number_and_escapes_user_input_in_html(
    name: str,
) -> None:
    subject, text, html = render_email(name, name=NAME, order_number="SO-10001", **CONTEXTS[name])
    assert subject and "\n" not in subject
    if name not in ABOUT_THE_ACCOUNT:
        assert "SO-10001" in text and "SO-10001" in html
    assert NAME in text
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_a_missing_context_variable_is_an_error() -> None:
    with pytest.raises(Exception, match="license_key"):
        render_email("license_key", name="Jane", order_number="SO-10001")


def test_an_unknown_template_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown email template"):
        render_email("../../secrets", name="x")


def test_the_outbox_holds_one_parseable_eml_per_key(tmp_path: Path) -> None:
    subject, text, html = render_email(
        "license_key", name="Jane", order_number="SO-10001", license_keys=["ABCD"]
    )
    sender = OutboxEmailSender(tmp_path, "Tokenflow <no-reply@tokenflow.test>", lambda: NOW)
    message_id = sender.send("jane@example.com", subject, text, html, idempotency_key="SO-1:key")
    again = OutboxEmailSender(tmp_path, clock=lambda: NOW).send(
        "jane@example.com", subject, text, html, idempotency_key="SO-1:key"
    )
    assert again == message_id
    [path] = tmp_path.glob("*.eml")
    assert path.name.startswith("20240506T100000Z-email-")
    message = read_eml(path)
    assert message["To"] == "jane@example.com"
    assert message["Subject"] == "Your license key for order SO-10001"
    assert message["Message-ID"] == message_id
    assert "ABCD" in message.get_body(("plain",)).get_content()
    assert message.get_body(("html",)).get_content().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("to", "subject"),
    [("not an address", "Hi"), ("a@b.example, c@d.example", "Hi"), ("a@b.example", "Hi\nBcc: x")],
)
def test_a_bad_recipient_or_subject_is_refused_before_anything_is_written(
    tmp_path: Path, to: str, subject: str
) -> None:
    with pytest.raises(ValueError):
        OutboxEmailSender(tmp_path).send(to, subject, "text", idempotency_key="k")
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


class Collector:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(envelope.content)  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Collector]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=port, server_hostname="localhost")
    controller.start()
    try:
        yield controller, collector
    finally:
        controller.stop()


def test_smtp_delivers_to_a_real_server_once_per_key(
    tmp_path: Path, smtp_server: tuple[Controller, Collector]
) -> None:
    controller, collector = smtp_server
    sender = SmtpEmailSender(
        "127.0.0.1",
        controller.port,
        "Tokenflow <no-reply@tokenflow.test>",
        timeout=5,
        sent_dir=tmp_path,
        clock=lambda: NOW,
        local_hostname="localhost",
    )
    subject, text, html = render_email(
        "license_key", name="Jane", order_number="SO-10001", license_keys=["ABCD"]
    )
    message_id = sender.send("jane@example.com", subject, text, html, idempotency_key="SO-1:key")
    assert sender.send("jane@example.com", subject, text, html, idempotency_key="SO-1:key") == (
        message_id
    )
    after_restart = SmtpEmailSender(
        "127.0.0.1", controller.port, "no-reply@tokenflow.test", sent_dir=tmp_path
    )
    assert after_restart.send("jane@example.com", subject, text, html, idempotency_key="SO-1:key")
    [received] = collector.messages
    message = message_from_bytes(received, policy=policy.default)
    assert message["To"] == "jane@example.com"
    assert message["Subject"] == subject
    assert message["Message-ID"] == message_id
