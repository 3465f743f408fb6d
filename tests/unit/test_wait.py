"""Estimated waiting time: people ahead / open windows * rolling mean service time."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hall_server.domain.wait import MAX_PLAUSIBLE_S, MIN_PLAUSIBLE_S, estimate_wait_s, rolling_mean_service_s


def test_rolling_mean_without_history_is_the_default():
    assert rolling_mean_service_s([], 300) == 300.0
    assert isinstance(rolling_mean_service_s([], 300), float)


def test_rolling_mean_is_the_mean_of_recent_services():
    assert rolling_mean_service_s([120, 240, 360], 300) == 240.0


def test_implausible_durations_are_dropped_from_the_mean():
    assert rolling_mean_service_s([1, 4.9, 100, 200, 5 * 3600, 4 * 3600 + 1], 999) == 150.0


def test_the_plausible_range_includes_its_bounds():
    assert (MIN_PLAUSIBLE_S, MAX_PLAUSIBLE_S) == (5.0, 14400.0)
    assert rolling_mean_service_s([5.0, 14400.0], 300) == (5.0 + 14400.0) / 2


def test_only_implausible_durations_give_the_default():
    assert rolling_mean_service_s([0, 2, 86400], 300) == 300.0


@pytest.mark.parametrize("ahead", [0, -1])
def test_nobody_ahead_means_no_wait(ahead):
    assert estimate_wait_s(ahead, 3, 300.0) == 0


def test_wait_is_people_ahead_over_windows_times_mean():
    assert estimate_wait_s(4, 2, 300.0) == 600
    assert estimate_wait_s(1, 3, 100.0) == 33
    assert isinstance(estimate_wait_s(1, 3, 100.0), int)


def test_no_open_window_still_gives_an_estimate_as_if_one_were_open():
    assert estimate_wait_s(3, 0, 200.0) == estimate_wait_s(3, 1, 200.0) == 600


def test_more_windows_mean_less_wait():
    assert estimate_wait_s(10, 1, 300.0) > estimate_wait_s(10, 2, 300.0) > estimate_wait_s(10, 5, 300.0)


means = st.floats(min_value=MIN_PLAUSIBLE_S, max_value=MAX_PLAUSIBLE_S)


@settings(max_examples=200, deadline=None)
@given(ahead=st.integers(0, 500), windows=st.integers(0, 30), mean=means)
def test_wait_never_grows_with_more_windows_and_never_shrinks_with_more_people(ahead, windows, mean):
    wait = estimate_wait_s(ahead, windows, mean)
    assert wait >= 0
    assert estimate_wait_s(ahead, windows + 1, mean) <= wait
    assert estimate_wait_s(ahead + 1, windows, mean) >= wait


@settings(max_examples=200, deadline=None)
@given(ahead=st.integers(0, 500), windows=st.integers(1, 30), a=means, b=means)
def test_wait_grows_with_the_mean_service_time(ahead, windows, a, b):
    lo, hi = sorted((a, b))
    assert estimate_wait_s(ahead, windows, lo) <= estimate_wait_s(ahead, windows, hi)


@settings(max_examples=200, deadline=None)
@given(
    durations=st.lists(st.floats(min_value=0, max_value=10 * 3600), max_size=30),
    default=st.integers(30, 3600),
)
def test_rolling_mean_stays_within_the_plausible_range_or_is_the_default(durations, default):
    mean = rolling_mean_service_s(durations, default)
    usable = [d for d in durations if 5 <= d <= 4 * 3600]
    if usable:
        assert min(usable) - 1e-6 <= mean <= max(usable) + 1e-6
    else:
        assert mean == default
