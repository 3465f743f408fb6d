"""Ticket numbers (A001 ... A1000) and the hall-local business date they reset on."""

from __future__ import annotations

import string
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hall_server.domain.numbering import business_date, format_number, parse_number

SHANGHAI = ZoneInfo("Asia/Shanghai")
URUMQI = ZoneInfo("Asia/Urumqi")
ZONES = {"Asia/Shanghai": 8, "Asia/Urumqi": 6, "UTC": 0}  # fixed offsets since 1991 (no DST)


@pytest.mark.parametrize(
    ("prefix", "seq", "number"),
    [
        ("A", 1, "A001"),
        ("A", 12, "A012"),
        ("A", 999, "A999"),
        ("A", 1000, "A1000"),
        ("B", 12345, "B12345"),
        ("YA", 7, "YA007"),
    ],
)
def test_format_number_pads_to_three_digits_and_widens_past_999(prefix, seq, number):
    assert format_number(prefix, seq) == number


@pytest.mark.parametrize("seq", [0, -1])
def test_format_number_refuses_sequences_below_one(seq):
    with pytest.raises(ValueError):
        format_number("A", seq)


@pytest.mark.parametrize(
    ("number", "parts"), [("A001", ("A", 1)), ("A1000", ("A", 1000)), ("VA042", ("VA", 42))]
)
def test_parse_number_splits_prefix_and_sequence(number, parts):
    assert parse_number(number) == parts


@pytest.mark.parametrize("bad", ["", "A", "001", "1000"])
def test_parse_number_refuses_what_is_not_a_ticket_number(bad):
    with pytest.raises(ValueError):
        parse_number(bad)


prefixes = st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=3)


@settings(max_examples=200, deadline=None)
@given(prefix=prefixes, seq=st.integers(1, 10**6))
def test_parse_number_inverts_format_number(prefix, seq):
    assert parse_number(format_number(prefix, seq)) == (prefix, seq)


@settings(max_examples=200, deadline=None)
@given(prefix=prefixes, digits=st.integers(1, 10**6).map(lambda n: f"{n:03d}"))
def test_format_number_inverts_parse_number_of_well_formed_numbers(prefix, digits):
    assert format_number(*parse_number(prefix + digits)) == prefix + digits


@settings(max_examples=100, deadline=None)
@given(prefix=prefixes, a=st.integers(1, 99999), b=st.integers(1, 99999))
def test_numbers_of_one_prefix_are_distinct_for_distinct_sequences(prefix, a, b):
    assert (format_number(prefix, a) == format_number(prefix, b)) == (a == b)


# ------------------------------------------------------------------ business date


def test_shanghai_business_date_switches_at_1600_utc():
    before = datetime(2026, 11, 29, 15, 59, 59, tzinfo=UTC)
    after = datetime(2026, 11, 29, 16, 0, 0, tzinfo=UTC)
    assert business_date(before, SHANGHAI) == date(2026, 11, 29)
    assert business_date(after, SHANGHAI) == date(2026, 11, 30)


def test_business_date_switches_at_local_midnight_whatever_the_instant_zone():
    last = datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    assert business_date(last, SHANGHAI) == date(2026, 12, 31)
    assert business_date(last + timedelta(microseconds=1), SHANGHAI) == date(2027, 1, 1)
    # the same instant seen from Urumqi (UTC+6) is still the 31st there
    assert business_date(last + timedelta(microseconds=1), URUMQI) == date(2026, 12, 31)
    assert business_date(datetime(2027, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=-5))), SHANGHAI) == date(
        2027, 1, 1
    )


def test_business_date_refuses_a_naive_datetime():
    with pytest.raises(ValueError):
        business_date(datetime(2026, 11, 29, 12, 0), SHANGHAI)


@settings(max_examples=200, deadline=None)
@given(
    instant=st.datetimes(
        min_value=datetime(1992, 1, 1),
        max_value=datetime(2099, 12, 31),
        timezones=st.sampled_from([ZoneInfo(z) for z in ZONES]),
    ),
    hall_zone=st.sampled_from(sorted(ZONES)),
)
def test_business_date_is_the_local_calendar_date_of_the_hall(instant, hall_zone):
    # computed from the fixed offset, independently of zoneinfo's conversion
    utc = instant.astimezone(UTC).replace(tzinfo=None)
    expected = (utc + timedelta(hours=ZONES[hall_zone])).date()
    assert business_date(instant, ZoneInfo(hall_zone)) == expected


@settings(max_examples=100, deadline=None)
@given(
    local=st.datetimes(min_value=datetime(1992, 1, 1), max_value=datetime(2099, 12, 31)),
    zone=st.sampled_from(sorted(ZONES)),
)
def test_a_local_wall_clock_time_belongs_to_its_own_date(local, zone):
    assert business_date(local.replace(tzinfo=ZoneInfo(zone)), ZoneInfo(zone)) == local.date()
