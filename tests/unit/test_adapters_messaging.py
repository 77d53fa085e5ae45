from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.messaging import MessageRejected, SandboxMessenger, validate_e164

NOW = datetime(2024, 5, 6, 10, 0, tzinfo=UTC)


def messenger(outbox: Path) -> SandboxMessenger:
    return SandboxMessenger(outbox, clock=lambda: NOW)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("+14155550123", "+14155550123"),
        (" +1 (415) 555-0123 ", "+14155550123"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_e164_numbers_are_accepted_without_their_separators(text: str, number: str) -> None:
    assert validate_e164(text) == number


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter a phone number"),
        ("4155550123", "international format"),
        ("+1 415 CALL NOW", "only digits"),
        ("+1415555\uff10\uff11\uff12\uff13", "only digits"),
        ("+0415550123", "never starts with 0"),
        ("+123", "7 to 15 digits"),
        ("+1234567890123456", "7 to 15 digits"),
    ],
)
def test_malformed_phone_numbers_are_refused_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_e164(text)


@given(st.text())
def test_validate_e164_raises_nothing_but_value_error(text: str) -> None:
    try:
        number = validate_e164(text)
    except ValueError:
        return
    assert number.startswith("+") and number[1:].isdigit()


@pytest.mark.parametrize("channel", ["sms", "voice"])
def test_a_code_is_delivered_to_the_outbox_as_a_readable_file(tmp_path: Path, channel: str) -> None:
    receipt = messenger(tmp_path).send_code(
        "+14155550123", channel, "Your Tokenflow code is 123456", "SO-10001:phone:1"
    )
    [message] = tmp_path.glob("*.txt")
    assert message.name.startswith(f"20240506T100000Z-{channel}-")
    assert "+14155550123" in message.read_text()
    assert "123456" in message.read_text()
    assert receipt.id.startswith("SM" if channel == "sms" else "CA")


def test_sending_twice_with_one_key_delivers_once(tmp_path: Path) -> None:
    first = messenger(tmp_path).send_code("+14155550123", "sms", "code 123456", "k")
    assert messenger(tmp_path).send_code("+14155550123", "sms", "code 123456", "k") == first
    assert len(list(tmp_path.glob("*.txt"))) == 1


def test_the_magic_invalid_number_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(MessageRejected) as rejected:
        messenger(tmp_path).send_code("+15005550001", "voice", "code 1", "k")
    assert rejected.value.code == "invalid_number"


def test_the_magic_landline_refuses_sms_but_takes_a_voice_call(tmp_path: Path) -> None:
    with pytest.raises(MessageRejected, match="cannot receive text messages"):
        messenger(tmp_path).send_code("+15005550009", "sms", "code 1", "k1")
    assert messenger(tmp_path).send_code("+15005550009", "voice", "code 1", "k2").id


def test_a_retry_after_a_crash_before_the_file_was_written_delivers_it(tmp_path: Path) -> None:
    receipt = messenger(tmp_path).send_code("+14155550123", "sms", "code 123456", "k")
    [message] = tmp_path.glob("*.txt")
    message.unlink()
    assert messenger(tmp_path).send_code("+14155550123", "sms", "code 123456", "k") == receipt
    assert [path.name for path in tmp_path.glob("*.txt")] == [message.name]


def test_one_key_cannot_send_a_different_code(tmp_path: Path) -> None:
    messenger(tmp_path).send_code("+14155550123", "sms", "code 123456", "k")
    with pytest.raises(ValueError, match="different request"):
        messenger(tmp_path).send_code("+14155550123", "sms", "code 654321", "k")
