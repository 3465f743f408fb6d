"""Who is next for a window: a pure choice over the waiting tickets.

The order, for a window serving categories [c1, c2, ...] in preference order:

1. Tickets transferred to this very window, oldest original `issued_at` first.
2. If `escalate_after_s` is set: any ticket of the window's categories that has waited
   that long, oldest first, whatever the preference (so a secondary queue cannot rot).
3. The first category in preference order that has a waiting ticket. Inside it:
   a. checked-in appointments, by `order_at`;
   b. priority groups (绿色通道) and normal tickets interleaved by the hall's ratio P:N
      (at most P priority calls in any run of P+N calls while both kinds wait), so normal
      tickets never starve;
   c. FIFO by `order_at` (a transferred ticket keeps its original `issued_at`).

The ratio is kept across the whole hall per category: the caller passes the priority
flags of the category's most recent calls, newest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Candidate:
    """A waiting ticket as dispatch sees it."""

    ticket_id: str
    category: str
    order_at: datetime
    priority: bool = False
    appointment: bool = False
    target_window: int | None = None


@dataclass(frozen=True)
class DispatchPolicy:
    """The hall rules dispatch applies."""

    priority_ratio: tuple[int, int] = (2, 1)
    escalate_after_s: int | None = None


def _fifo(c: Candidate) -> tuple[datetime, str]:
    return (c.order_at, c.ticket_id)


def take_priority(recent_priority_flags: Sequence[bool], ratio: tuple[int, int]) -> bool:
    """Whether the next call should go to a priority ticket when both kinds wait.

    With ratio P:N, look at the last P+N-1 calls: if P of them already went to priority
    tickets, a normal ticket is due. For 2:1 that yields P P N P P N ..., for 1:1 P N P N.
    """
    p, n = ratio
    window = list(recent_priority_flags[: p + n - 1])
    return sum(window) < p


def choose_in_category(
    waiting: Sequence[Candidate], recent_priority_flags: Sequence[bool], ratio: tuple[int, int]
) -> Candidate | None:
    """The next ticket of one category's queue (appointments, then interleave, then FIFO)."""
    if not waiting:
        return None
    appointments = [c for c in waiting if c.appointment]
    if appointments:
        return min(appointments, key=_fifo)
    priority = [c for c in waiting if c.priority]
    normal = [c for c in waiting if not c.priority]
    if priority and normal:
        pool = priority if take_priority(recent_priority_flags, ratio) else normal
    else:
        pool = priority or normal
    return min(pool, key=_fifo)


def choose_next(
    window: int,
    categories: Sequence[str],
    waiting: Iterable[Candidate],
    recent_priority_flags: Mapping[str, Sequence[bool]],
    policy: DispatchPolicy,
    now: datetime,
) -> Candidate | None:
    """The ticket this window should call now, or None when nothing waits that it serves."""
    targeted: list[Candidate] = []
    by_category: dict[str, list[Candidate]] = {c: [] for c in categories}
    for cand in waiting:
        if cand.target_window is not None:
            if cand.target_window == window:
                targeted.append(cand)
        elif cand.category in by_category:
            by_category[cand.category].append(cand)
    if targeted:
        return min(targeted, key=_fifo)
    if policy.escalate_after_s is not None:
        overdue = [
            c
            for queue in by_category.values()
            for c in queue
            if (now - c.order_at).total_seconds() >= policy.escalate_after_s
        ]
        if overdue:
            return min(overdue, key=_fifo)
    for category in categories:
        chosen = choose_in_category(
            by_category[category], recent_priority_flags.get(category, ()), policy.priority_ratio
        )
        if chosen is not None:
            return chosen
    return None


def queue_rank(c: Candidate) -> tuple[int, int, datetime, str]:
    """Sort key of a category's queue used to tell a visitor their position.

    Appointments first, then priority groups, then FIFO. Because dispatch interleaves
    normal tickets between priority ones, this over-states a normal ticket's position a
    little: a visitor is told a place at or behind the real one, never ahead of it.
    """
    return (0 if c.appointment else 1, 0 if c.priority else 1, c.order_at, c.ticket_id)


def position_in_queue(ticket: Candidate, waiting: Iterable[Candidate]) -> int:
    """1-based position of a waiting ticket among its category's waiting tickets."""
    mine = queue_rank(ticket)
    return 1 + sum(
        1
        for c in waiting
        if c.ticket_id != ticket.ticket_id
        and c.target_window == ticket.target_window
        and c.category == ticket.category
        and queue_rank(c) < mine
    )
