from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.appointments import SandboxAppointmentBook, SlotUnavailable, UnknownBooking

FRIDAY_AFTERNOON = datetime(2024, 5, 10, 16, 10, tzinfo=UTC)


def book(directory: Path) -> SandboxAppointmentBook:
    return SandboxAppointmentBook(directory, clock=lambda: FRIDAY_AFTERNOON)


def test_free_slots_are_business_hours_every_half_hour_after_now(tmp_path: Path) -> None:
    slots = book(tmp_path).free_slots(FRIDAY_AFTERNOON, days=3)
    assert slots[0] == "2024-05-10T16:30:00+00:00"
    assert slots[1] == "2024-05-13T09:00:00+00:00"
    assert slots[-1] == "2024-05-13T16:00:00+00:00"
    assert len(slots) == 1 + 15


def test_a_booked_slot_is_no_longer_free_and_a_second_booking_is_refused(
    tmp_path: Path,
) -> None:
    slot = "2024-05-13T09:00:00+00:00"
    booking = book(tmp_path).book(slot, "SO-10001", "SO-10001:video:1")
    assert booking.join_url.startswith("https://video.sandbox.tokenflow.test/join/")
    assert slot not in book(tmp_path).free_slots(FRIDAY_AFTERNOON)
    with pytest.raises(SlotUnavailable, match="just been taken"):
        book(tmp_path).book(slot, "SO-10002", "SO-10002:video:1")


def test_each_booking_gets_its_own_join_link_that_its_id_does_not_give_away(
    tmp_path: Path,
) -> None:
    first = book(tmp_path).book("2024-05-13T09:00:00+00:00", "SO-10001", "a")
    second = book(tmp_path).book("2024-05-13T09:30:00+00:00", "SO-10001", "b")
    assert first.join_url != second.join_url
    token = first.join_url.rsplit("/", 1)[1]
    assert len(token) >= 32 and first.id not in token


def test_booking_twice_with_one_key_returns_the_first_booking(tmp_path: Path) -> None:
    first = book(tmp_path).book("2024-05-13T09:00:00+00:00", "SO-10001", "k")
    assert book(tmp_path).book("2024-05-13T09:00:00+00:00", "SO-10001", "k") == first


def test_a_past_slot_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SlotUnavailable, match="has passed"):
        book(tmp_path).book("2024-05-10T16:00:00+00:00", "SO-10001", "k")


@pytest.mark.parametrize(
    "slot", ["2024-05-11T10:00:00+00:00", "2024-05-13T09:15:00+00:00", "2024-05-13T09:00", "soon"]
)
def test_a_time_that_is_not_a_slot_is_a_value_error(tmp_path: Path, slot: str) -> None:
    with pytest.raises(ValueError):
        book(tmp_path).book(slot, "SO-10001", "k")


def test_cancelling_frees_the_slot_and_retires_the_key(tmp_path: Path) -> None:
    slot = "2024-05-13T09:00:00+00:00"
    booking = book(tmp_path).book(slot, "SO-10001", "k1")
    book(tmp_path).cancel(booking.id)
    book(tmp_path).cancel(booking.id)
    assert slot in book(tmp_path).free_slots(FRIDAY_AFTERNOON)
    with pytest.raises(SlotUnavailable, match="cancelled"):
        book(tmp_path).book(slot, "SO-10001", "k1")
    assert book(tmp_path).book(slot, "SO-10001", "k2").slot == slot


def test_cancelling_an_unknown_booking_raises(tmp_path: Path) -> None:
    with pytest.raises(UnknownBooking):
        book(tmp_path).cancel("bk_nope")
