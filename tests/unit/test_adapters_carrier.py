from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from adapters.carrier import SandboxCarrier, UnknownShipment

THURSDAY = datetime(2024, 5, 9, 15, 0, tzinfo=UTC)


def address(postal_code: str = "12340") -> dict[str, str]:
    return {
        "name": "Jane Doe",
        "street": "1 Main St",
        "city": "Springfield",
        "postal_code": postal_code,
        "country": "US",
    }


def ship(directory: Path, key: str = "SO-10001:ship", after: timedelta = timedelta(days=3)):
    return SandboxCarrier(directory, after).ship("SO-10001", "TF0000001", address(), key, THURSDAY)


def test_the_estimated_delivery_is_the_day_the_delivery_time_ends(tmp_path: Path) -> None:
    assert ship(tmp_path).estimated_delivery == date(2024, 5, 12)
    assert ship(tmp_path, "other", timedelta(hours=2)).estimated_delivery == date(2024, 5, 9)


def test_a_tracking_number_is_1z_and_sixteen_letters_or_digits(tmp_path: Path) -> None:
    assert re.fullmatch(r"1Z[A-Z0-9]{16}", ship(tmp_path).tracking_number)


def test_shipping_twice_with_one_key_ships_once_even_after_a_restart(tmp_path: Path) -> None:
    first = ship(tmp_path)
    assert ship(tmp_path) == first
    assert len(list(tmp_path.glob("*.json"))) == 1
    assert ship(tmp_path, key="SO-10001:replacement") != first


def test_a_parcel_goes_in_transit_then_out_for_delivery_then_is_delivered(
    tmp_path: Path,
) -> None:
    number = ship(tmp_path, after=timedelta(hours=4)).tracking_number
    carrier = SandboxCarrier(tmp_path)

    def statuses(hours: float) -> list[str]:
        report = carrier.track(number, THURSDAY + timedelta(hours=hours))
        return [event.status for event in report.events]

    assert statuses(0) == []
    assert statuses(1) == ["in_transit"]
    assert statuses(3) == ["in_transit", "out_for_delivery"]
    assert statuses(4) == ["in_transit", "out_for_delivery", "delivered"]


def test_the_carrier_says_when_asking_again_may_tell_more(tmp_path: Path) -> None:
    number = ship(tmp_path, after=timedelta(hours=4)).tracking_number
    carrier = SandboxCarrier(tmp_path)
    assert carrier.track(number, THURSDAY).check_again_at == THURSDAY + timedelta(hours=1)
    on_the_way = carrier.track(number, THURSDAY + timedelta(hours=2))
    assert on_the_way.check_again_at == THURSDAY + timedelta(hours=3)
    assert on_the_way.delivered is None
    done = carrier.track(number, THURSDAY + timedelta(days=1))
    assert done.check_again_at is None
    assert done.delivered is not None
    assert done.delivered.occurred_at == THURSDAY + timedelta(hours=4)


def test_a_shipped_parcel_keeps_its_schedule_when_the_setting_changes(tmp_path: Path) -> None:
    number = ship(tmp_path, after=timedelta(hours=4)).tracking_number
    slower = SandboxCarrier(tmp_path, timedelta(days=30))
    assert slower.track(number, THURSDAY + timedelta(hours=4)).delivered is not None


def test_tracking_an_unknown_number_raises(tmp_path: Path) -> None:
    with pytest.raises(UnknownShipment):
        SandboxCarrier(tmp_path).track("1Z0000000000000000", THURSDAY)


def test_a_delivery_time_of_zero_or_less_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="longer than zero"):
        SandboxCarrier(tmp_path, timedelta(0))


def test_an_incomplete_address_is_refused_naming_the_missing_fields(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="city, postal_code"):
        SandboxCarrier(tmp_path).ship(
            "SO-10001", "TF1", {"name": "J", "street": "S", "country": "US"}, "k", THURSDAY
        )


def test_a_naive_now_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone"):
        SandboxCarrier(tmp_path).ship("SO-10001", "TF1", address("1"), "k", datetime(2024, 5, 9))
