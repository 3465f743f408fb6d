"""Evaluation rules (好差评): levels, one per served ticket, working days, rectification."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hall_server.domain.errors import AlreadyEvaluated, InvalidInput, NotServed, RectificationNotOpen
from hall_server.domain.evaluations import (
    Evaluation,
    EvaluationChannel,
    Level,
    Rectification,
    add_working_days,
    check_evaluable,
    is_working_day,
    opens_rectification,
    parse_level,
)
from hall_server.domain.hall import DayHours, OpeningHours
from hall_server.domain.tickets import TicketStatus

WEEKDAYS = OpeningHours(
    weekly={d: DayHours(((time(9), time(17)),)) for d in range(5)},
    holidays=frozenset({date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 5)}),
    workdays={date(2026, 10, 10): 0},  # a Saturday worked as a Monday (调休)
)


def test_levels_run_from_very_dissatisfied_to_very_satisfied() -> None:
    assert [parse_level(n) for n in (1, 5)] == [Level.VERY_DISSATISFIED, Level.VERY_SATISFIED]
    for bad in (0, 6, -1):
        with pytest.raises(InvalidInput):
            parse_level(bad)


def test_only_ratings_of_one_or_two_open_a_rectification_case() -> None:
    assert [opens_rectification(Level(n)) for n in range(1, 6)] == [True, True, False, False, False]


@pytest.mark.parametrize("status", [s for s in TicketStatus if s is not TicketStatus.DONE])
def test_only_a_served_ticket_can_be_rated(status: TicketStatus) -> None:
    with pytest.raises(NotServed) as e:
        check_evaluable(status, already=False)
    assert e.value.code == "not_served"


def test_a_ticket_is_rated_once() -> None:
    check_evaluable(TicketStatus.DONE, already=False)
    with pytest.raises(AlreadyEvaluated):
        check_evaluable(TicketStatus.DONE, already=True)


def test_working_days_skip_weekends_holidays_and_count_make_up_days() -> None:
    # Wed 30 Sep 2026: Thu 1 and Fri 2 Oct are holidays, Mon 5 too; Tue 6 is the first working day.
    assert add_working_days(date(2026, 9, 30), 1, WEEKDAYS) == date(2026, 10, 6)
    # From Fri 9 Oct: Sat 10 is a make-up working day.
    assert add_working_days(date(2026, 10, 9), 1, WEEKDAYS) == date(2026, 10, 10)
    assert add_working_days(date(2026, 10, 9), 5, WEEKDAYS) == date(2026, 10, 15)  # Sat, Mon..Thu
    assert add_working_days(date(2026, 10, 9), 0, WEEKDAYS) == date(2026, 10, 9)


@settings(max_examples=200, deadline=None)
@given(start=st.dates(date(2026, 1, 1), date(2027, 12, 31)), n=st.integers(0, 30))
def test_the_nth_working_day_is_a_working_day_with_n_working_days_up_to_it(start: date, n: int) -> None:
    end = add_working_days(start, n, WEEKDAYS)
    between = [start + timedelta(days=i) for i in range(1, (end - start).days + 1)]
    assert sum(is_working_day(d, WEEKDAYS) for d in between) == n
    assert n == 0 or is_working_day(end, WEEKDAYS)


def test_a_manager_closes_an_open_case_once_and_needs_a_note() -> None:
    now = datetime(2026, 11, 30, 2, tzinfo=UTC)
    e = Evaluation("e1", "test", "t1", Level.DISSATISFIED, EvaluationChannel.PAD, now,
                   rectification=Rectification.OPEN, rectification_due=date(2026, 12, 7))
    with pytest.raises(InvalidInput):
        e.close("   ", "boss", now)
    e.close("已向申请人道歉并加强窗口培训", "boss", now)
    assert (e.rectification, e.closed_by, e.version) == (Rectification.CLOSED, "boss", 1)
    with pytest.raises(RectificationNotOpen):
        e.close("again", "boss", now)
