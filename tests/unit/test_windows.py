"""Window states (closed, open, paused with a reason) and whether a window may call."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hall_server.domain.errors import InvalidInput, WindowBusy, WindowClosed, WindowPaused
from hall_server.domain.windows import Window, WindowMove, WindowStatus

T0 = datetime(2026, 11, 30, 8, 55, tzinfo=ZoneInfo("Asia/Shanghai"))
LATER = T0 + timedelta(minutes=30)


def window(status: WindowStatus = WindowStatus.CLOSED, **kw) -> Window:
    w = Window(hall="KM-WH", number=3, name="3号窗口", categories=("A", "B"))
    if status is not WindowStatus.CLOSED:
        w.apply(WindowMove.OPEN, T0, staff="li")
    if status is WindowStatus.PAUSED:
        w.apply(WindowMove.PAUSE, T0, reason="午休")
    for key, value in kw.items():
        setattr(w, key, value)
    assert w.status is status
    return w


def unchanged_after(w: Window, move: WindowMove, **kw) -> bool:
    before = dataclasses.replace(w)
    changed = w.apply(move, LATER, **kw)
    return changed is False and w == before


# ------------------------------------------------------------------ open


def test_opening_a_closed_window_opens_it_for_the_staff_member():
    w = window()
    assert w.apply(WindowMove.OPEN, LATER, staff="wang") is True
    assert (w.status, w.staff, w.status_since, w.version) == (WindowStatus.OPEN, "wang", LATER, 1)


def test_opening_an_open_window_is_a_no_op():
    assert unchanged_after(window(WindowStatus.OPEN), WindowMove.OPEN)
    assert unchanged_after(window(WindowStatus.OPEN), WindowMove.OPEN, staff="li")


def test_opening_an_open_window_under_another_staff_member_hands_it_over():
    w = window(WindowStatus.OPEN)
    assert w.apply(WindowMove.OPEN, LATER, staff="wang") is True
    assert (w.status, w.staff) == (WindowStatus.OPEN, "wang")
    assert w.status_since == T0  # still open since the first opening


def test_opening_a_paused_window_resumes_it():
    w = window(WindowStatus.PAUSED)
    assert w.apply(WindowMove.OPEN, LATER) is True
    assert (w.status, w.pause_reason, w.staff) == (WindowStatus.OPEN, None, "li")


# ------------------------------------------------------------------ pause


def test_pausing_an_open_window_records_the_reason():
    w = window(WindowStatus.OPEN)
    assert w.apply(WindowMove.PAUSE, LATER, reason="  系统故障 ") is True
    assert (w.status, w.pause_reason, w.status_since) == (WindowStatus.PAUSED, "系统故障", LATER)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_pause_needs_a_reason(reason):
    w = window(WindowStatus.OPEN)
    before = dataclasses.replace(w)
    with pytest.raises(InvalidInput) as exc:
        w.apply(WindowMove.PAUSE, LATER, reason=reason)
    assert exc.value.code == "invalid_request"
    assert w == before


def test_a_long_pause_reason_is_cut_to_200_characters():
    w = window(WindowStatus.OPEN)
    w.apply(WindowMove.PAUSE, LATER, reason="停" * 300)
    assert w.pause_reason == "停" * 200


def test_pausing_again_with_the_same_reason_is_a_no_op():
    assert unchanged_after(window(WindowStatus.PAUSED), WindowMove.PAUSE, reason="午休")


def test_pausing_again_with_another_reason_changes_the_reason_only():
    w = window(WindowStatus.PAUSED)
    assert w.apply(WindowMove.PAUSE, LATER, reason="培训") is True
    assert (w.status, w.pause_reason, w.status_since) == (WindowStatus.PAUSED, "培训", T0)


def test_pausing_a_closed_window_raises_window_closed():
    w = window()
    with pytest.raises(WindowClosed) as exc:
        w.apply(WindowMove.PAUSE, LATER, reason="午休")
    assert exc.value.code == "window_closed"
    assert w.status is WindowStatus.CLOSED


# ------------------------------------------------------------------ resume


def test_resuming_a_paused_window_opens_it_and_forgets_the_reason():
    w = window(WindowStatus.PAUSED)
    assert w.apply(WindowMove.RESUME, LATER) is True
    assert (w.status, w.pause_reason, w.status_since, w.staff) == (WindowStatus.OPEN, None, LATER, "li")


def test_resuming_an_open_window_is_a_no_op():
    assert unchanged_after(window(WindowStatus.OPEN), WindowMove.RESUME)


def test_resuming_a_closed_window_raises_window_closed_and_changes_nothing():
    w = window()
    before = dataclasses.replace(w)
    with pytest.raises(WindowClosed) as exc:
        w.apply(WindowMove.RESUME, LATER)
    assert (exc.value.code, exc.value.status) == ("window_closed", 409)
    assert w == before


# ------------------------------------------------------------------ close


@pytest.mark.parametrize("status", [WindowStatus.OPEN, WindowStatus.PAUSED])
def test_closing_an_idle_window_closes_it_and_signs_the_staff_out(status):
    w = window(status)
    assert w.apply(WindowMove.CLOSE, LATER) is True
    assert (w.status, w.staff, w.pause_reason, w.status_since) == (WindowStatus.CLOSED, None, None, LATER)


def test_closing_a_closed_window_is_a_no_op():
    assert unchanged_after(window(), WindowMove.CLOSE)


@pytest.mark.parametrize("status", [WindowStatus.OPEN, WindowStatus.PAUSED])
def test_closing_a_window_that_holds_a_ticket_raises_window_busy(status):
    w = window(status, current_ticket="t-1")
    before = dataclasses.replace(w)
    with pytest.raises(WindowBusy) as exc:
        w.apply(WindowMove.CLOSE, LATER)
    assert (exc.value.code, exc.value.status) == ("window_busy", 409)
    assert w == before


def test_every_change_bumps_the_version_once():
    w = window()
    moves = [
        (WindowMove.OPEN, {"staff": "li"}),
        (WindowMove.PAUSE, {"reason": "午休"}),
        (WindowMove.RESUME, {}),
        (WindowMove.CLOSE, {}),
    ]
    for i, (move, kw) in enumerate(moves, start=1):
        assert w.apply(move, LATER, **kw) is True
        assert w.version == i


# ------------------------------------------------------------------ may it call?


def test_an_open_idle_window_may_call():
    assert window(WindowStatus.OPEN).check_can_call() is None


@pytest.mark.parametrize(
    ("status", "current", "error", "code"),
    [
        (WindowStatus.CLOSED, None, WindowClosed, "window_closed"),
        (WindowStatus.PAUSED, None, WindowPaused, "window_paused"),
        (WindowStatus.PAUSED, "t-1", WindowPaused, "window_paused"),
        (WindowStatus.OPEN, "t-1", WindowBusy, "window_busy"),
    ],
)
def test_check_can_call_refuses_with_the_right_code(status, current, error, code):
    w = window(status, current_ticket=current)
    with pytest.raises(error) as exc:
        w.check_can_call()
    assert exc.value.code == code
    assert exc.value.status == 409
