"""Adapters for every outside system of the credential journey.

Each module holds a small Protocol, a sandbox that behaves like the real service (its test
inputs are in the module's docstring) and, for email, the real SMTP client. Sandboxes are
deterministic given their inputs and clock, never touch the network, and keep what must
survive a restart as files, so a retry with the same idempotency key repeats no side effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from adapters.appointments import AppointmentBook, SandboxAppointmentBook
from adapters.carrier import DEFAULT_DELIVERY_AFTER, Carrier, SandboxCarrier
from adapters.common import Clock, utcnow
from adapters.email import EmailSender, OutboxEmailSender, SmtpEmailSender
from adapters.identity import IdentityVerifier, SandboxIdentityVerifier
from adapters.messaging import Messenger, SandboxMessenger
from adapters.payment import PaymentGateway, SandboxPaymentGateway
from adapters.postal import PostalService, SandboxPostalService


@dataclass(frozen=True)
class Adapters:
    payment: PaymentGateway
    carrier: Carrier
    identity: IdentityVerifier
    messaging: Messenger
    postal: PostalService
    email: EmailSender
    appointments: AppointmentBook


def build_adapters(
    state_dir: Path,
    outbox_dir: Path,
    smtp_host: str | None,
    smtp_port: int | None,
    mail_from: str,
    *,
    clock: Clock = utcnow,
    delivery_after: timedelta = DEFAULT_DELIVERY_AFTER,
) -> Adapters:
    """The sandboxes, keeping state under `state_dir/<adapter>/` and delivering messages to
    `outbox_dir`; email goes over SMTP when `smtp_host` is set (port 25 unless given); the
    sandbox carrier delivers `delivery_after` after shipping."""
    state_dir, outbox_dir = Path(state_dir), Path(outbox_dir)
    email: EmailSender
    if smtp_host:
        email = SmtpEmailSender(
            smtp_host, smtp_port or 25, mail_from, sent_dir=state_dir / "smtp", clock=clock
        )
    else:
        email = OutboxEmailSender(outbox_dir, mail_from, clock)
    return Adapters(
        payment=SandboxPaymentGateway(state_dir / "payment", clock),
        carrier=SandboxCarrier(state_dir / "carrier", delivery_after),
        identity=SandboxIdentityVerifier(state_dir / "identity", clock),
        messaging=SandboxMessenger(outbox_dir, clock),
        postal=SandboxPostalService(outbox_dir),
        email=email,
        appointments=SandboxAppointmentBook(state_dir / "appointments", clock),
    )
