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

from collections import deque
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
    seq: int = 0  # the daily sequence of its number: breaks ties between tickets issued at one instant


@dataclass(frozen=True)
class DispatchPolicy:
    """The hall rules dispatch applies."""

    priority_ratio: tuple[int, int] = (2, 1)
    escalate_after_s: int | None = None


def _fifo(c: Candidate) -> tuple[datetime, int, str]:
    return (c.order_at, c.seq, c.ticket_id)


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


@dataclass(frozen=True)
class QueueCounts:
    """How many tickets of each kind wait in a ticket's queue, and how many of them are ahead.

    "Ahead" is by dispatch's FIFO key (order_at, then daily sequence, then id); the
    ticket itself is never counted.
    """

    appointments_ahead: int = 0
    appointments: int = 0
    priority_ahead: int = 0
    priority: int = 0
    normal_ahead: int = 0
    normal: int = 0


def count_queue(ticket: Candidate, waiting: Iterable[Candidate]) -> QueueCounts:
    """QueueCounts of a ticket's category queue (for tickets not transferred to a window)."""
    mine = _fifo(ticket)
    n = dict.fromkeys(("aa", "a", "pa", "p", "na", "n"), 0)
    for c in waiting:
        if c.ticket_id == ticket.ticket_id or c.target_window is not None or c.category != ticket.category:
            continue
        kind = "a" if c.appointment else "p" if c.priority else "n"
        n[kind] += 1
        if _fifo(c) < mine:
            n[kind + "a"] += 1
    return QueueCounts(n["aa"], n["a"], n["pa"], n["p"], n["na"], n["n"])


def position_from_counts(
    counts: QueueCounts,
    *,
    appointment: bool,
    priority: bool,
    recent_priority_flags: Sequence[bool] = (),
    ratio: tuple[int, int] = (2, 1),
) -> int:
    """1-based place in a category queue, replaying dispatch's order on counts alone.

    Appointments go first, by FIFO. Then priority and normal tickets interleave by the
    ratio (`take_priority` over the call history, which the replay extends), FIFO within
    each kind. Every waiting ticket of the other kind takes part in the interleave,
    whenever it arrived. The replay stops as soon as the other kind runs out, so it costs
    at most (ahead of mine + the other kind) integer steps, and no rows.
    """
    if appointment:
        return counts.appointments_ahead + 1
    p, n = ratio
    depth = p + n - 1
    flags: deque[bool] = deque(recent_priority_flags[:depth], maxlen=max(depth, 1))
    mine_ahead = counts.priority_ahead if priority else counts.normal_ahead
    other = counts.normal if priority else counts.priority
    position = counts.appointments
    same_done = other_done = 0
    while True:
        if other_done == other:  # only my own kind left in front of me
            return position + (mine_ahead - same_done) + 1
        take = (sum(flags) if depth else 0) < p
        position += 1
        flags.appendleft(take)
        if take == priority:
            if same_done == mine_ahead:
                return position
            same_done += 1
        else:
            other_done += 1


def position_in_queue(
    ticket: Candidate,
    waiting: Iterable[Candidate],
    recent_priority_flags: Sequence[bool] = (),
    ratio: tuple[int, int] = (2, 1),
) -> int:
    """1-based place of a waiting ticket in its queue, as dispatch would call it.

    The queue is the ticket's category (or, for a ticket transferred to a window, the
    tickets waiting for that window, which it calls first-come first-served). The answer
    is exact for one window serving the category; other windows and their preferences
    only make the real wait shorter.
    """
    waiting = list(waiting)
    if ticket.target_window is not None:
        mine = _fifo(ticket)
        return 1 + sum(
            1 for c in waiting
            if c.target_window == ticket.target_window and c.ticket_id != ticket.ticket_id and _fifo(c) < mine
        )
    return position_from_counts(
        count_queue(ticket, waiting), appointment=ticket.appointment, priority=ticket.priority,
        recent_priority_flags=recent_priority_flags, ratio=ratio,
    )
