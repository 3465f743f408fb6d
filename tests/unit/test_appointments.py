"""Appointment rules: slots from opening hours, signed codes, the check-in window."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hall_server.domain.appointments import (
    Appointment,
    AppointmentStatus,
    blocked_until,
    code_is_authentic,
    find_slot,
    new_code,
    slots_on,
)
from hall_server.domain.errors import AlreadyCheckedIn, IllegalTransition, OutsideCheckInWindow
from hall_server.domain.hall import Rules
from tests.fakes import SHANGHAI, make_hall_config

CFG = make_hall_config()  # Mon-Fri 09:00-12:00 and 13:00-17:30, Asia/Shanghai
SECRET = b"test-secret-0123456789"


def local(d: date, hh: int, mm: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hh, mm, tzinfo=SHANGHAI)


WED = date(2026, 3, 4)


def test_slots_cut_each_opening_period_and_never_cross_its_end() -> None:
    slots = slots_on(CFG, WED)
    assert [s.start.strftime("%H:%M") for s in slots[:2]] == ["09:00", "09:30"]
    assert slots[5].end.strftime("%H:%M") == "12:00" and slots[6].start.strftime("%H:%M") == "13:00"
    assert slots[-1].start.strftime("%H:%M") == "17:00"  # 17:00-17:30 fits; nothing starts at 17:30
    assert len(slots) == 6 + 9
    assert slots_on(CFG, date(2026, 3, 7)) == []  # Saturday: closed


def test_an_always_open_hall_has_slots_around_the_clock() -> None:
    slots = slots_on(CFG, date(2026, 3, 7), always_open=True)
    assert len(slots) == 48 and slots[-1].end == local(date(2026, 3, 8), 0)


def test_longer_slots_follow_the_rules() -> None:
    cfg = replace(CFG, rules=Rules(appointment_slot_minutes=60))
    assert [s.start.hour for s in slots_on(cfg, WED)] == [9, 10, 11, 13, 14, 15, 16]


def test_only_a_slot_boundary_is_a_slot() -> None:
    assert find_slot(CFG, local(WED, 9, 30)) is not None
    assert find_slot(CFG, local(WED, 9, 15)) is None
    assert find_slot(CFG, local(WED, 12, 0)) is None
    # the same instant written in UTC is the same slot
    assert find_slot(CFG, local(WED, 9, 30).astimezone(UTC)) is not None


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 23), st.sampled_from([0, 1, 15]))
def test_codes_are_signed_and_any_change_is_refused(position: int, delta: int) -> None:
    code = new_code(SECRET)
    assert code_is_authentic(SECRET, code) and code_is_authentic(SECRET, code.lower())
    assert not code_is_authentic(b"another-secret-000000", code)
    chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    i = position % len(code)
    if code[i] != "-" and delta:
        changed = code[:i] + chars[(chars.index(code[i]) + delta) % 32] + code[i + 1:]
        assert not code_is_authentic(SECRET, changed)


def test_non_ascii_codes_are_refused_not_a_crash() -> None:
    assert not code_is_authentic(SECRET, "window-statuses\U0003fd54")
    assert not code_is_authentic(SECRET, "二维码-签名")


def test_codes_do_not_repeat() -> None:
    assert len({new_code(SECRET) for _ in range(1000)}) == 1000


def booking(start: datetime) -> Appointment:
    return Appointment("a1", "test", "A", start, start + timedelta(minutes=30), "key", "5301**********1238",
                       "online", new_code(SECRET), start - timedelta(days=1))


def test_check_in_is_open_from_30_minutes_before_to_15_after_the_start() -> None:
    start = local(WED, 10)
    for minutes in (-30, 0, 15):
        a = booking(start)
        a.check_in(start + timedelta(minutes=minutes), CFG)
        assert a.status is AppointmentStatus.CHECKED_IN
    for minutes in (-31, 16):
        a = booking(start)
        with pytest.raises(OutsideCheckInWindow) as e:
            a.check_in(start + timedelta(minutes=minutes), CFG)
        assert e.value.extra["check_in_from"].endswith("09:30:00+08:00") and a.status is AppointmentStatus.BOOKED


def test_a_booking_checks_in_once_and_only_while_booked() -> None:
    start = local(WED, 10)
    a = booking(start)
    a.check_in(start, CFG)
    with pytest.raises(AlreadyCheckedIn):
        a.check_in(start, CFG)
    with pytest.raises(IllegalTransition):
        a.cancel()
    b = booking(start)
    b.cancel()
    with pytest.raises(IllegalTransition):
        b.check_in(start, CFG)
    c = booking(start)
    c.miss()
    assert c.status is AppointmentStatus.NO_SHOW
    with pytest.raises(IllegalTransition):
        c.miss()


def test_a_block_needs_the_limit_within_the_window_and_lasts_from_the_last_no_show() -> None:
    d = local(WED, 9)
    assert blocked_until([d, d + timedelta(days=10)], 3, 30, 30) is None
    assert blocked_until([d, d + timedelta(days=40), d + timedelta(days=80)], 3, 30, 30) is None
    three = [d, d + timedelta(days=7), d + timedelta(days=14)]
    assert blocked_until(three, 3, 30, 30) == d + timedelta(days=44)
    assert blocked_until([*three, d + timedelta(days=20)], 3, 30, 30) == d + timedelta(days=50)
