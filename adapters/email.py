"""Email: render the journey's messages and send them, to the outbox folder or over SMTP.

`render_email(name, **context)` renders `adapters/templates/email/<name>.eml.j2`, whose
blocks `subject`, `text` and `html` give the three parts. The html part is the template
rendered whole, through `_layout.html.j2`, with autoescape (user input such as a name
cannot inject markup); the subject and text blocks are rendered alone, plain. Each
template's first line lists the context it needs; a missing variable is an error.

Senders are idempotent by key. `OutboxEmailSender` writes each message as an RFC 5322
`.eml` file (`<outbox>/<timestamp>-email-<id>.eml`) once per key. `SmtpEmailSender` sends
through an SMTP server and then records the key in `sent_dir`: a crash between the two
sends again on retry (at least once), with the same Message-ID so mail software can tell.
"""

from __future__ import annotations

import smtplib
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr
from functools import cache
from pathlib import Path
from typing import NamedTuple, Protocol

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from adapters.common import Clock, as_utc, derive_id, utcnow
from adapters.outbox import Outbox, fingerprint
from adapters.store import JsonFileStore

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates" / "email"
TEMPLATE_NAMES = (
    "order_confirmation",
    "invoice",
    "payment_reminder",
    "order_cancelled",
    "token_shipped",
    "token_delivered",
    "license_key",
    "license_key_resend",
    "activation_code_by_mail_notice",
    "appointment_confirmation",
    "appointment_reminder",
    "appointment_moved",
    "appointment_cancelled",
    "appointment_missed",
    "interview_not_passed",
    "proofing_failed",
    "registration_complete",
    "renewal_reminder",
    "credential_expired",
    "failed_logins",
)
DEFAULT_MAIL_FROM = "Tokenflow <no-reply@tokenflow.test>"


class RenderedEmail(NamedTuple):
    subject: str
    text: str
    html: str


class EmailSender(Protocol):
    def send(
        self,
        to: str,
        subject: str,
        text_body: str,
        html_body: str | None = None,
        *,
        idempotency_key: str,
    ) -> str: ...


def money(amount_cents: int, currency: str = "USD") -> str:
    return f"{amount_cents / 100:,.2f} {currency}"


def when(moment: date | datetime | str) -> str:
    """A date or moment (or its ISO text) as people read it: "Monday 6 May 2024 at 09:30 UTC"."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment) if "T" in moment else date.fromisoformat(moment)
    if isinstance(moment, datetime):
        moment = as_utc(moment)
        return f"{moment:%A} {moment.day} {moment:%B %Y at %H:%M} UTC"
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


@cache
def _environments() -> tuple[Environment, Environment]:
    """(plain, html): one loader, escaping decided by the part rendered, not by the author."""
    loader = FileSystemLoader(TEMPLATE_DIR)
    plain = Environment(
        loader=loader,
        undefined=StrictUndefined,
        autoescape=False,  # noqa: S701 - the subject and text/plain parts are not HTML
        trim_blocks=True,
    )
    html = Environment(loader=loader, undefined=StrictUndefined, autoescape=True, trim_blocks=True)
    for environment in (plain, html):
        environment.filters.update(money=money, when=when)
    return plain, html


def _render_block(template: Template, block: str, context: dict[str, object]) -> str:
    return "".join(template.blocks[block](template.new_context(context)))


def render_email(template_name: str, **context: object) -> RenderedEmail:
    """The subject, text and html of one of TEMPLATE_NAMES rendered with `context`."""
    if template_name not in TEMPLATE_NAMES:
        raise ValueError(f"unknown email template {template_name!r}")
    plain, html = _environments()
    filename = f"{template_name}.eml.j2"
    template = plain.get_template(filename)
    text = _render_block(template, "text", context).strip()
    return RenderedEmail(
        " ".join(_render_block(template, "subject", context).split()),
        plain.get_template("_layout.txt.j2").render(
            body=text, link_url=context.get("link_url"), link_text=context.get("link_text")
        )
        + "\n",
        html.get_template(filename).render(context) + "\n",
    )


def message_id_for(idempotency_key: str, mail_from: str) -> str:
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "tokenflow.test"
    return f"<{derive_id('email', idempotency_key, 32)}@{domain}>"


def recipient(to: str, subject: str) -> Address:
    """The one address in `to` ("a@b.example" or "Name <a@b.example>"), checked with the
    subject before any key is taken, so a bad message fails without a trace on disk."""
    found = getaddresses([to])
    address = found[0][1] if len(found) == 1 else ""
    if address.count("@") != 1 or address.startswith("@") or address.endswith("@"):
        raise ValueError(f"{to!r} is not one email address")
    if "\r" in subject or "\n" in subject:
        raise ValueError("an email subject is one line")
    username, _, domain = address.partition("@")
    return Address(display_name=found[0][0], username=username, domain=domain)


def build_message(
    mail_from: str,
    to: str,
    subject: str,
    text_body: str,
    html_body: str | None,
    message_id: str,
    sent_at: datetime,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = recipient(to, subject)
    message["Subject"] = subject
    message["Date"] = format_datetime(as_utc(sent_at))
    message["Message-ID"] = message_id
    message.set_content(text_body)
    if html_body is not None:
        message.add_alternative(html_body, subtype="html")
    return message


def _request(to: str, subject: str, text_body: str, html_body: str | None) -> dict[str, str]:
    return {"to": to, "subject": subject, "content": fingerprint(text_body, html_body)}


class OutboxEmailSender:
    def __init__(
        self, outbox_dir: Path, mail_from: str = DEFAULT_MAIL_FROM, clock: Clock = utcnow
    ) -> None:
        self._outbox = Outbox(outbox_dir, "email")
        self._mail_from = mail_from
        self._clock = clock

    def send(
        self,
        to: str,
        subject: str,
        text_body: str,
        html_body: str | None = None,
        *,
        idempotency_key: str,
    ) -> str:
        message_id = message_id_for(idempotency_key, self._mail_from)

        def render(sent_at: datetime) -> bytes:
            return build_message(
                self._mail_from, to, subject, text_body, html_body, message_id, sent_at
            ).as_bytes()

        recipient(to, subject)
        record = self._outbox.deliver(
            idempotency_key,
            _request(to, subject, text_body, html_body),
            message_id=message_id,
            channel="email",
            now=self._clock(),
            suffix=".eml",
            render=render,
        )
        return str(record["id"])


class SmtpEmailSender:
    def __init__(
        self,
        host: str,
        port: int,
        mail_from: str,
        timeout: float = 10.0,
        *,
        sent_dir: Path,
        clock: Clock = utcnow,
        local_hostname: str | None = None,
    ) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._mail_from = mail_from
        self._sent = JsonFileStore(Path(sent_dir))
        self._clock = clock
        self._local_hostname = local_hostname

    def send(
        self,
        to: str,
        subject: str,
        text_body: str,
        html_body: str | None = None,
        *,
        idempotency_key: str,
    ) -> str:
        recipient(to, subject)
        request = _request(to, subject, text_body, html_body)
        sent = self._sent.recall(idempotency_key, request)
        if sent is not None:
            return str(sent["message_id"])
        message_id = message_id_for(idempotency_key, self._mail_from)
        message = build_message(
            self._mail_from, to, subject, text_body, html_body, message_id, self._clock()
        )
        with smtplib.SMTP(
            self.host, self.port, timeout=self.timeout, local_hostname=self._local_hostname
        ) as smtp:
            smtp.send_message(message)
        remembered = self._sent.remember(idempotency_key, request, {"message_id": message_id})
        return str(remembered["message_id"])
