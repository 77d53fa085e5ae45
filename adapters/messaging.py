"""SMS and voice calls that carry one-time codes to a phone.

The sandbox delivers each message as a text file in the outbox folder
(`<outbox>/<timestamp>-sms-<id>.txt` or `-voice-`), so a person trying the demo can read the
code. A message is delivered once per idempotency key; a retry returns the first receipt.

Sandbox test inputs (Twilio's magic numbers):

| phone number  | outcome                                                      |
| ------------- | ------------------------------------------------------------ |
| +15005550001  | MessageRejected `invalid_number` on both channels            |
| +15005550009  | MessageRejected `sms_not_supported` for SMS; voice works      |
| anything else | delivered to the outbox                                       |
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from adapters.common import Clock, derive_id, require_text, utcnow
from adapters.outbox import Outbox, fingerprint

Channel = Literal["sms", "voice"]


def as_channel(value: object) -> Channel:
    """`value` as a channel; ValueError when it is neither."""
    if value == "sms":
        return "sms"
    if value == "voice":
        return "voice"
    raise ValueError("channel must be 'sms' or 'voice'")


INVALID_NUMBER = "+15005550001"
SMS_INCAPABLE_NUMBER = "+15005550009"

_SEPARATORS = re.compile(r"[\s().-]")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class MessageRejected(Exception):
    """The provider refused the message; `code` says why, the message says it to a person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class MessageReceipt:
    id: str


class Messenger(Protocol):
    def send_code(
        self, phone_number: str, channel: Channel, text: str, idempotency_key: str
    ) -> MessageReceipt: ...


def validate_e164(text: str) -> str:
    """The phone number in E.164 form (`+` and 7 to 15 digits), spaces and dashes removed."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("Enter a phone number.")
    number = _SEPARATORS.sub("", text)
    if not number.startswith("+"):
        raise ValueError(
            "Enter the phone number in international format: + and the country code, "
            "for example +14155550123."
        )
    digits = number[1:]
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError("A phone number may contain only digits after the +.")
    if digits.startswith("0"):
        raise ValueError("A country code never starts with 0; drop the 0 after the +.")
    if not _E164.fullmatch(number):
        raise ValueError("A phone number has 7 to 15 digits after the +.")
    return number


class SandboxMessenger:
    def __init__(self, outbox_dir: Path, clock: Clock = utcnow) -> None:
        self._outbox = Outbox(outbox_dir, "phone")
        self._clock = clock

    def send_code(
        self, phone_number: str, channel: Channel, text: str, idempotency_key: str
    ) -> MessageReceipt:
        channel = as_channel(channel)
        number = validate_e164(phone_number)
        body = require_text(text, "text")
        if number == INVALID_NUMBER:
            raise MessageRejected("invalid_number", f"{number} is not a valid phone number.")
        if number == SMS_INCAPABLE_NUMBER and channel == "sms":
            raise MessageRejected(
                "sms_not_supported", f"{number} cannot receive text messages; try a voice call."
            )
        # Twilio's id shapes: SM... for a message, CA... for a call.
        prefix = "SM" if channel == "sms" else "CA"

        def render(sent_at: datetime) -> bytes:
            how = "Text message" if channel == "sms" else "Voice call, read out twice"
            return (
                f"{how} to {number}\nSent: {sent_at:%Y-%m-%d %H:%M:%S} UTC\n\n{body}\n"
            ).encode()

        record = self._outbox.deliver(
            idempotency_key,
            {"to": number, "channel": channel, "content": fingerprint(body)},
            message_id=prefix + derive_id("phone", idempotency_key, 32),
            channel=channel,
            now=self._clock(),
            suffix=".txt",
            render=render,
        )
        return MessageReceipt(record["id"])
