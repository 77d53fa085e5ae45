from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from handlers.adapters.carrier import SandboxCarrier, UnknownShipment

THURSDAY = datetime(2024, 5, 9, 15, 0, tzinfo=UTC)


def address(postal_code: str) -> dict[str, str]:
    return {
        "name": "Jane Doe",
        "street": "1 Main St",
        "city": "Springfield",
        "postal_code": postal_code,
        "country": "US",
    }


def ship(directory: Path, postal_code: str = "12340", key: str = "SO-10001:ship"):
    return SandboxCarrier(directory).ship(
        "SO-10001", "TF0000001", address(postal_code), key, THURSDAY
    )


@pytest.mark.parametrize(
    ("postal_code", "delivery"),
    [
        ("12340", date(2024, 5, 14)),  # 3 business days: Fri, Mon, Tue
        ("12345", date(2024, 5, 15)),  # 4
        ("12349", date(2024, 5, 16)),  # 5
        ("SW1A 1AA", date(2024, 5, 15)),  # no digit at the end: 4
    ],
)
def test_delivery_is_three_to_five_business_days_away_skipping_the_weekend(
    tmp_path: Path, postal_code: str, delivery: date
) -> None:
    assert ship(tmp_path, postal_code).estimated_delivery == delivery


def test_a_tracking_number_is_1z_and_sixteen_letters_or_digits(tmp_path: Path) -> None:
    assert re.fullmatch(r"1Z[A-Z0-9]{16}", ship(tmp_path).tracking_number)


def test_shipping_twice_with_one_key_ships_once_even_after_a_restart(tmp_path: Path) -> None:
    first = ship(tmp_path)
    assert ship(tmp_path) == first
    assert len(list(tmp_path.glob("*.json"))) == 1
    assert ship(tmp_path, key="SO-10001:replacement") != first


def test_a_parcel_is_in_transit_until_its_delivery_day_has_passed(tmp_path: Path) -> None:
    shipment = ship(tmp_path)
    carrier = SandboxCarrier(tmp_path)
    on_the_day = datetime(2024, 5, 14, 23, 59, tzinfo=UTC)
    assert carrier.track(shipment.tracking_number, on_the_day) == "in_transit"
    assert carrier.track(shipment.tracking_number, datetime(2024, 5, 15, tzinfo=UTC)) == (
        "delivered"
    )


def test_tracking_an_unknown_number_raises(tmp_path: Path) -> None:
    with pytest.raises(UnknownShipment):
        SandboxCarrier(tmp_path).track("1Z0000000000000000", THURSDAY)


def test_an_incomplete_address_is_refused_naming_the_missing_fields(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="city, postal_code"):
        SandboxCarrier(tmp_path).ship(
            "SO-10001", "TF1", {"name": "J", "street": "S", "country": "US"}, "k", THURSDAY
        )


def test_a_naive_now_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone"):
        SandboxCarrier(tmp_path).ship("SO-10001", "TF1", address("1"), "k", datetime(2024, 5, 9))
