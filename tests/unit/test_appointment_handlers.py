"""Appointments through the real bus with fakes: booking, capacity, no-show rule, check-in."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from hall_server.domain import commands as c
from hall_server.domain.actors import Actor, Role
from hall_server.domain.errors import (
    AlreadyBooked,
    AlreadyCheckedIn,
    BookingBlocked,
    Forbidden,
    IllegalTransition,
    InvalidIdNumber,
    NotFound,
    OutsideCheckInWindow,
    SlotFull,
    SlotUnavailable,
)
from hall_server.domain.hall import Rules
from hall_server.services.bus import MessageBus
from tests.fakes import SHANGHAI, FakeClock, FakeStore, id_number, make_bus, make_hall_config

HALL = "test"
ADMIN = Actor("admin", Role.ADMIN)
KIOSK = Actor("device:kiosk-1", Role.KIOSK, hall=HALL)
BOARD = Actor("device:board-1", Role.BOARD, hall=HALL)
WED_0900 = datetime(2026, 3, 4, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(WED_0900 - timedelta(days=1))  # Tuesday 09:00


@pytest.fixture
def store() -> FakeStore:
    return FakeStore.with_hall(make_hall_config(rules=Rules(appointment_slot_capacity=2)))


@pytest.fixture
def bus(store: FakeStore, clock: FakeClock) -> MessageBus:
    b = make_bus(store, clock, always_open=False)
    b.handle(c.OpenWindow(ADMIN, HALL, 1))
    return b


def person() -> c.Applicant:
    return c.Applicant("resident_id", id_number())


def book(bus: MessageBus, who: c.Applicant, start: datetime = WED_0900, category: str = "A") -> dict[str, Any]:
    return bus.handle(c.BookAppointment(KIOSK, HALL, start, who, "online", category=category))


def test_booking_returns_a_code_and_records_an_event_without_it(bus: MessageBus, store: FakeStore) -> None:
    a = book(bus, person())
    assert a["status"] == "booked" and a["slot_start"] == "2026-03-04T09:00:00+08:00"
    assert a["slot_end"] == "2026-03-04T09:30:00+08:00" and len(a["code"]) > 20
    event = store.events[-1]
    assert event["type"] == "appointment.booked" and "code" not in event["data"]["appointment"]


def test_a_slot_is_never_booked_past_its_capacity_and_cancelling_frees_a_place(bus: MessageBus) -> None:
    first = book(bus, person())
    book(bus, person())
    with pytest.raises(SlotFull):
        book(bus, person())
    assert bus.handle(c.CancelAppointment(KIOSK, first["id"]))["status"] == "cancelled"
    book(bus, person())
    with pytest.raises(IllegalTransition):
        bus.handle(c.CancelAppointment(KIOSK, first["id"]))


def test_slots_that_are_past_off_grid_closed_or_too_far_ahead_are_refused(bus: MessageBus) -> None:
    who = person()
    for start in (WED_0900 - timedelta(days=2), WED_0900 + timedelta(minutes=10),
                  datetime(2026, 3, 7, 9, 0, tzinfo=SHANGHAI), WED_0900 + timedelta(days=14)):
        with pytest.raises(SlotUnavailable):
            book(bus, who, start)


def test_one_booking_per_person_category_and_day(bus: MessageBus) -> None:
    who = person()
    book(bus, who)
    with pytest.raises(AlreadyBooked):
        book(bus, who, WED_0900 + timedelta(hours=1))
    book(bus, who, WED_0900 + timedelta(hours=1), category="B")


def test_an_invalid_id_cannot_book_and_a_board_cannot_book(bus: MessageBus) -> None:
    with pytest.raises(InvalidIdNumber):
        book(bus, c.Applicant("resident_id", "110105194912310021"))
    with pytest.raises(Forbidden):
        bus.handle(c.BookAppointment(BOARD, HALL, WED_0900, person(), "online", category="A"))


def test_check_in_by_code_gives_a_ticket_ahead_of_walk_ins(bus: MessageBus, clock: FakeClock) -> None:
    ten = WED_0900 + timedelta(hours=1)
    a = book(bus, person(), ten)
    clock.set(ten - timedelta(minutes=40))
    with pytest.raises(OutsideCheckInWindow):
        bus.handle(c.CheckIn(KIOSK, HALL, code=a["code"]))
    clock.set(ten - timedelta(minutes=20))
    walk_in = bus.handle(c.IssueTicket(KIOSK, HALL, "kiosk", category="A"))
    ticket = bus.handle(c.CheckIn(KIOSK, HALL, code=a["code"]))
    assert ticket["appointment"] is True and ticket["channel"] == "online" and ticket["position"] == 1
    assert ticket["applicant"] == a["applicant"]
    with pytest.raises(AlreadyCheckedIn):
        bus.handle(c.CheckIn(KIOSK, HALL, code=a["code"]))
    called = bus.handle(c.CallNext(ADMIN, HALL, 1))
    assert called["id"] == ticket["id"] and called["id"] != walk_in["id"]


def test_check_in_by_id_finds_todays_booking_and_refuses_a_stranger(bus: MessageBus, clock: FakeClock) -> None:
    who = person()
    book(bus, who)
    clock.set(WED_0900 + timedelta(minutes=5))
    assert bus.handle(c.CheckIn(KIOSK, HALL, applicant=who))["appointment"] is True
    with pytest.raises(NotFound):
        bus.handle(c.CheckIn(KIOSK, HALL, applicant=person()))


def test_a_forged_or_foreign_code_is_not_found(bus: MessageBus, clock: FakeClock) -> None:
    a = book(bus, person())
    clock.set(WED_0900)
    forged = a["code"][:-1] + ("A" if a["code"][-1] != "A" else "B")
    with pytest.raises(NotFound):
        bus.handle(c.CheckIn(KIOSK, HALL, code=forged))
    with pytest.raises(NotFound):
        bus.handle(c.CheckIn(KIOSK, HALL, code="not-a-code"))


def test_three_no_shows_in_thirty_days_block_booking_for_thirty_days(
    bus: MessageBus, clock: FakeClock, store: FakeStore
) -> None:
    who = person()
    for week in range(3):
        clock.set(WED_0900 + timedelta(weeks=week) - timedelta(days=1))
        book(bus, who, WED_0900 + timedelta(weeks=week))
        clock.set(WED_0900 + timedelta(weeks=week, days=1))
        assert bus.handle(c.CloseAppointmentDay(ADMIN, HALL)) == 1
    assert store.events[-1]["type"] == "appointment.missed"
    with pytest.raises(BookingBlocked) as e:
        book(bus, who, WED_0900 + timedelta(weeks=3))
    assert e.value.extra["blocked_until"] == "2026-04-17"  # 30 days after the last no-show (18 March)
    clock.set(datetime(2026, 4, 16, 9, 0, tzinfo=SHANGHAI))
    with pytest.raises(BookingBlocked):
        book(bus, who, datetime(2026, 4, 17, 9, 0, tzinfo=SHANGHAI))
    clock.set(datetime(2026, 4, 17, 9, 0, tzinfo=SHANGHAI))
    book(bus, who, datetime(2026, 4, 20, 9, 0, tzinfo=SHANGHAI))


def test_closing_the_day_leaves_checked_in_and_todays_bookings_alone(
    bus: MessageBus, clock: FakeClock, store: FakeStore
) -> None:
    checked = book(bus, person())
    today = book(bus, person(), WED_0900 + timedelta(hours=4))
    clock.set(WED_0900)
    bus.handle(c.CheckIn(KIOSK, HALL, code=checked["code"]))
    assert bus.handle(c.CloseAppointmentDay(ADMIN, HALL)) == 0
    statuses = {a.id: a.status.value for a in store.appointments.values()}
    assert statuses == {checked["id"]: "checked_in", today["id"]: "booked"}
