from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from adapters.postal import SandboxPostalService

FRIDAY = datetime(2024, 5, 10, 9, 0, tzinfo=UTC)


def send(outbox: Path, postal_code: str, key: str = "SO-10001:letter"):
    address = {
        "name": "Jane Doe",
        "street": "12 Birch Road",
        "city": "Springfield",
        "postal_code": postal_code,
        "country": "US",
    }
    body = "Your activation code is 4F7K-22QX."
    return SandboxPostalService(outbox).send_letter(address, "activation_code", body, key, FRIDAY)


@pytest.mark.parametrize(
    ("postal_code", "delivery"),
    [("62700", date(2024, 5, 15)), ("62709", date(2024, 5, 22))],
)
def test_a_letter_takes_three_to_eight_business_days(
    tmp_path: Path, postal_code: str, delivery: date
) -> None:
    assert send(tmp_path, postal_code).expected_delivery == delivery


def test_a_letter_is_posted_once_per_key_into_the_outbox(tmp_path: Path) -> None:
    letter = send(tmp_path, "62704")
    assert send(tmp_path, "62704") == letter
    [posted] = tmp_path.glob("*-letter-*.txt")
    assert "Jane Doe" in posted.read_text()
    assert "4F7K-22QX" in posted.read_text()
