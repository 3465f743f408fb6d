"""Estimated waiting time.

estimate = people ahead / windows open for the category * rolling mean service time

- people ahead: waiting tickets of the same category that dispatch would call first
  (position - 1);
- windows: windows that serve the category and are open (at least 1, so a paused hall
  still gives an estimate rather than infinity);
- rolling mean: the mean duration (start to finish) of the category's last N services
  (`rules.service_time_window`), or the hall's `default_service_time_s` before there is
  any history. Services under 5 s or over 4 h are ignored as slips of the finger.
"""

from __future__ import annotations

from collections.abc import Sequence

MIN_PLAUSIBLE_S = 5.0
MAX_PLAUSIBLE_S = 4 * 3600.0


def rolling_mean_service_s(durations_s: Sequence[float], default_s: float) -> float:
    """Mean of the plausible recent service durations, or the default when there are none."""
    usable = [d for d in durations_s if MIN_PLAUSIBLE_S <= d <= MAX_PLAUSIBLE_S]
    return sum(usable) / len(usable) if usable else float(default_s)


def estimate_wait_s(people_ahead: int, open_windows: int, mean_service_s: float) -> int:
    """Whole seconds until a ticket with `people_ahead` in front of it is likely called."""
    if people_ahead <= 0:
        return 0
    return round(people_ahead / max(open_windows, 1) * mean_service_s)
