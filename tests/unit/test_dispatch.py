"""Who a window calls next: preference, FIFO, transfers, appointments, priority interleave."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hall_server.domain.dispatch import (
    Candidate,
    DispatchPolicy,
    choose_in_category,
    choose_next,
    position_in_queue,
    take_priority,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPEN = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
NOW = OPEN + timedelta(hours=3)
PLAIN = DispatchPolicy()


def cand(
    ticket_id: str,
    category: str = "A",
    minute: float = 0,
    *,
    priority: bool = False,
    appointment: bool = False,
    target_window: int | None = None,
) -> Candidate:
    return Candidate(
        ticket_id, category, OPEN + timedelta(minutes=minute), priority, appointment, target_window
    )


def next_id(
    waiting: Sequence[Candidate],
    *,
    window: int = 1,
    categories: Sequence[str] = ("A",),
    flags: dict | None = None,
    policy: DispatchPolicy = PLAIN,
    now: datetime = NOW,
) -> str | None:
    chosen = choose_next(window, categories, waiting, flags or {}, policy, now)
    return None if chosen is None else chosen.ticket_id


def call_order(
    waiting: Sequence[Candidate],
    ratio: tuple[int, int] = (2, 1),
    *,
    window: int = 1,
    categories: Sequence[str] = ("A",),
    history: Sequence[bool] = (),
) -> list[Candidate]:
    """Call one window until nothing is left for it, feeding back the priority flags of the
    category's recent non-appointment calls, newest first and P+N deep (as the caller does)."""
    pending = list(waiting)
    flags: dict[str, list[bool]] = {c: list(history) for c in categories}
    policy = DispatchPolicy(priority_ratio=ratio)
    order: list[Candidate] = []
    while True:
        recent = {c: f[: sum(ratio)] for c, f in flags.items()}
        chosen = choose_next(window, categories, pending, recent, policy, NOW)
        if chosen is None:
            return order
        pending.remove(chosen)
        order.append(chosen)
        if not chosen.appointment:
            flags.setdefault(chosen.category, []).insert(0, chosen.priority)


# ------------------------------------------------------------------ nothing to call


def test_choose_next_returns_none_when_nothing_waits():
    assert next_id([]) is None


def test_choose_next_returns_none_when_only_other_categories_wait():
    assert next_id([cand("b1", "B"), cand("c1", "C", priority=True, appointment=True)]) is None


def test_choose_next_returns_none_when_only_tickets_for_other_windows_wait():
    waiting = [cand("t1", "A", target_window=2), cand("t2", "A", target_window=3)]
    assert next_id(waiting, window=1) is None


def test_choose_in_category_of_an_empty_queue_is_none():
    assert choose_in_category([], [], (2, 1)) is None


# ------------------------------------------------------------------ preference and FIFO


def test_window_calls_its_first_category_before_an_older_ticket_of_its_second():
    waiting = [cand("b1", "B", minute=0), cand("a1", "A", minute=30)]
    assert next_id(waiting, categories=("A", "B")) == "a1"
    assert next_id(waiting, categories=("B", "A")) == "b1"


def test_window_falls_back_to_its_next_category_when_the_first_is_empty():
    waiting = [cand("c1", "C", minute=1), cand("b1", "B", minute=5), cand("x1", "X", minute=0)]
    assert next_id(waiting, categories=("A", "B", "C")) == "b1"
    assert next_id(waiting, categories=("A", "C", "B")) == "c1"


def test_call_order_follows_the_preference_order_of_categories():
    waiting = [
        cand("b1", "B", 0),
        cand("a1", "A", 10),
        cand("c1", "C", 1),
        cand("a2", "A", 20),
        cand("b2", "B", 5),
    ]
    order = [c.ticket_id for c in call_order(waiting, categories=("A", "B", "C"))]
    assert order == ["a1", "a2", "b1", "b2", "c1"]


def test_tickets_of_one_category_are_called_first_in_first_out_by_order_at():
    waiting = [cand(f"a{i}", "A", minute=m) for i, m in enumerate([7, 3, 9, 1, 5])]
    random.Random(4).shuffle(waiting)
    order = [c.order_at for c in call_order(waiting)]
    assert order == sorted(order)


def test_equal_order_times_are_broken_by_ticket_id_whatever_the_input_order():
    waiting = [cand("a3", minute=1), cand("a1", minute=1), cand("a2", minute=1)]
    assert next_id(waiting) == "a1"
    assert next_id(list(reversed(waiting))) == "a1"


candidates = st.builds(
    Candidate,
    ticket_id=st.integers(0, 10**6).map(lambda i: f"t{i}"),
    category=st.sampled_from("ABC"),
    order_at=st.integers(0, 600).map(lambda m: OPEN + timedelta(minutes=m)),
    priority=st.booleans(),
    appointment=st.booleans(),
    target_window=st.sampled_from([None, None, None, 1, 2]),
)


@settings(max_examples=100, deadline=None)
@given(
    waiting=st.lists(candidates, max_size=12, unique_by=lambda c: c.ticket_id),
    categories=st.lists(st.sampled_from("ABC"), min_size=1, max_size=3, unique=True),
    flags=st.lists(st.booleans(), max_size=4),
    escalate=st.sampled_from([None, 600, 3600]),
    seed=st.integers(0, 1000),
)
def test_the_choice_does_not_depend_on_the_order_candidates_are_listed(
    waiting, categories, flags, escalate, seed
):
    policy = DispatchPolicy((2, 1), escalate)
    recent = dict.fromkeys(categories, flags)
    shuffled = list(waiting)
    random.Random(seed).shuffle(shuffled)
    assert choose_next(1, categories, waiting, recent, policy, NOW) == choose_next(
        1, categories, shuffled, recent, policy, NOW
    )


@settings(max_examples=100, deadline=None)
@given(
    waiting=st.lists(candidates, max_size=12, unique_by=lambda c: c.ticket_id),
    categories=st.lists(st.sampled_from("ABC"), min_size=1, max_size=3, unique=True),
    escalate=st.sampled_from([None, 600]),
)
def test_the_choice_is_one_the_window_serves_or_none_only_when_there_is_none(waiting, categories, escalate):
    chosen = choose_next(1, categories, waiting, {}, DispatchPolicy((2, 1), escalate), NOW)
    servable = [
        c for c in waiting if c.target_window == 1 or (c.target_window is None and c.category in categories)
    ]
    if chosen is None:
        assert servable == []
    else:
        assert chosen in servable


# ------------------------------------------------------------------ transfers to a window


def test_ticket_transferred_to_the_window_comes_before_everything_else_there():
    waiting = [
        cand("appt", "A", 0, appointment=True),
        cand("prio", "A", 0, priority=True),
        cand("old", "A", 0),
        cand("moved", "A", 90, target_window=1),
    ]
    assert next_id(waiting, window=1) == "moved"


def test_ticket_transferred_to_the_window_is_called_there_even_outside_its_categories():
    waiting = [cand("a1", "A", 0), cand("moved", "Z", 90, target_window=1)]
    assert next_id(waiting, window=1, categories=("A",)) == "moved"


def test_ticket_transferred_to_a_window_is_never_offered_to_another_window():
    waiting = [cand("moved", "A", 0, target_window=2)]
    assert next_id(waiting, window=1) is None
    assert next_id(waiting, window=3, categories=("A", "B")) is None
    assert next_id(waiting, window=2, categories=("B",)) == "moved"


def test_ticket_transferred_to_a_window_escapes_escalation_at_other_windows():
    waiting = [cand("moved", "A", 0, target_window=2)]
    policy = DispatchPolicy(escalate_after_s=60)
    assert next_id(waiting, window=1, policy=policy) is None


@settings(max_examples=100, deadline=None)
@given(
    waiting=st.lists(candidates, max_size=12, unique_by=lambda c: c.ticket_id),
    window=st.sampled_from([1, 2, 3]),
    escalate=st.sampled_from([None, 600]),
)
def test_targeted_tickets_go_only_to_their_window_and_first(waiting, window, escalate):
    chosen = choose_next(window, ("A", "B", "C"), waiting, {}, DispatchPolicy((2, 1), escalate), NOW)
    mine = [c for c in waiting if c.target_window == window]
    if mine:
        assert chosen is not None and chosen.target_window == window
    elif chosen is not None:
        assert chosen.target_window is None


def test_transferred_tickets_are_called_by_their_original_issue_time():
    waiting = [
        cand("late", "A", 50, target_window=4),
        cand("early", "B", 10, target_window=4),
        cand("middle", "A", 30, target_window=4, priority=True),
    ]
    assert [c.ticket_id for c in call_order(waiting, window=4)] == ["early", "middle", "late"]


def test_ticket_transferred_to_a_category_keeps_its_original_place_there():
    # order_at of a transferred ticket is its original issued_at, earlier than B's own tickets
    waiting = [cand("b1", "B", 20), cand("b2", "B", 25), cand("from-a", "B", 5)]
    assert [c.ticket_id for c in call_order(waiting, categories=("B",))] == ["from-a", "b1", "b2"]


# ------------------------------------------------------------------ appointments


def test_checked_in_appointments_go_before_walk_ins_of_the_category():
    waiting = [
        cand("walkin", "A", 0),
        cand("prio", "A", 1, priority=True),
        cand("appt2", "A", 30, appointment=True),
        cand("appt1", "A", 20, appointment=True),
    ]
    assert [c.ticket_id for c in call_order(waiting)][:2] == ["appt1", "appt2"]


def test_an_appointment_of_a_secondary_category_waits_for_the_first_category():
    waiting = [cand("a1", "A", 30), cand("b-appt", "B", 0, appointment=True)]
    assert next_id(waiting, categories=("A", "B")) == "a1"


def test_appointments_go_first_whatever_the_priority_flags_say():
    waiting = [cand("prio", "A", 0, priority=True), cand("appt", "A", 9, appointment=True, priority=True)]
    assert next_id(waiting, flags={"A": [False, False]}) == "appt"


# ------------------------------------------------------------------ priority interleave


@pytest.mark.parametrize(
    ("ratio", "pattern"),
    [
        ((2, 1), "PPNPPNPPN"),
        ((1, 1), "PNPNPNPN"),
        ((1, 3), "PNNNPNNNP"),
        ((3, 2), "PPPNNPPPNN"),
    ],
)
def test_priority_and_normal_tickets_interleave_by_the_ratio(ratio, pattern):
    waiting = [cand(f"p{i:02}", minute=i, priority=True) for i in range(20)]
    waiting += [cand(f"n{i:02}", minute=i) for i in range(20)]
    order = call_order(waiting, ratio)
    assert "".join("P" if c.priority else "N" for c in order[: len(pattern)]) == pattern


def test_take_priority_counts_only_the_last_p_plus_n_minus_one_calls():
    # 2:1 looks at the last two calls
    assert take_priority([], (2, 1)) is True
    assert take_priority([True], (2, 1)) is True
    assert take_priority([True, True], (2, 1)) is False
    assert take_priority([False, True, True], (2, 1)) is True
    assert take_priority([True, False, True, True, True], (2, 1)) is True


def test_only_priority_tickets_waiting_are_called_whatever_the_ratio():
    waiting = [cand("p1", minute=0, priority=True), cand("p2", minute=1, priority=True)]
    assert next_id(waiting, flags={"A": [True, True, True]}) == "p1"


def test_only_normal_tickets_waiting_are_called_whatever_the_ratio():
    waiting = [cand("n1", minute=0), cand("n2", minute=1)]
    assert next_id(waiting, flags={"A": [False, False, False]}) == "n1"


def test_priority_tickets_are_first_in_first_out_among_themselves():
    waiting = [cand("p2", minute=5, priority=True), cand("p1", minute=2, priority=True), cand("n1", minute=0)]
    order = [c.ticket_id for c in call_order(waiting, (2, 1))]
    assert order == ["p1", "p2", "n1"]


ratios = st.tuples(st.integers(1, 4), st.integers(1, 4))


def _simulate_with_arrivals(
    initial: list[bool], arrivals: list[list[bool]], ratio: tuple[int, int], history: list[bool]
) -> tuple[list[Candidate], list[bool], dict[str, int]]:
    """One window, one category; new tickets (priority flag) arrive after each call.

    Returns the call order, whether both kinds were waiting before each call, and for each
    normal ticket the number of the call at which it was issued."""
    seq = 0
    issued_after: dict[str, int] = {}
    pending: list[Candidate] = []

    def issue(priority: bool, calls_so_far: int) -> None:
        nonlocal seq
        seq += 1
        c = cand(f"{'p' if priority else 'n'}{seq:04}", minute=seq, priority=priority)
        pending.append(c)
        if not priority:
            issued_after[c.ticket_id] = calls_so_far

    for p in initial:
        issue(p, 0)
    flags = list(history)
    order: list[Candidate] = []
    both: list[bool] = []
    policy = DispatchPolicy(priority_ratio=ratio)
    while pending:
        both.append(any(c.priority for c in pending) and any(not c.priority for c in pending))
        chosen = choose_next(1, ("A",), pending, {"A": flags[: sum(ratio)]}, policy, NOW)
        assert chosen is not None
        pending.remove(chosen)
        order.append(chosen)
        flags.insert(0, chosen.priority)
        if len(order) <= len(arrivals):
            for p in arrivals[len(order) - 1]:
                issue(p, len(order))
    return order, both, issued_after


@settings(max_examples=200, deadline=None)
@given(
    ratio=ratios,
    initial=st.lists(st.booleans(), min_size=1, max_size=30),
    arrivals=st.lists(st.lists(st.booleans(), max_size=3), max_size=40),
    history=st.lists(st.booleans(), max_size=8),
)
def test_no_run_of_p_plus_n_calls_has_more_than_p_priority_calls_while_both_kinds_wait(
    ratio, initial, arrivals, history
):
    p, n = ratio
    order, both, _ = _simulate_with_arrivals(initial, arrivals, ratio, history)
    prio = [c.priority for c in order]
    for i in range(len(order) - (p + n) + 1):
        if all(both[i : i + p + n]):
            assert sum(prio[i : i + p + n]) <= p, (ratio, "".join("P" if x else "N" for x in prio))


@settings(max_examples=200, deadline=None)
@given(
    ratio=ratios,
    initial=st.lists(st.booleans(), min_size=1, max_size=30),
    # a steady stream of priority visitors is the worst case for normal tickets
    arrivals=st.lists(st.lists(st.booleans(), max_size=4), max_size=60),
    history=st.lists(st.booleans(), max_size=8),
)
def test_normal_tickets_never_starve_behind_priority_groups(ratio, initial, arrivals, history):
    p, _ = ratio
    order, _, issued_after = _simulate_with_arrivals(initial, arrivals, ratio, history)
    called_at_call = {c.ticket_id: i + 1 for i, c in enumerate(order)}
    normals = sorted(issued_after, key=lambda tid: int(tid[1:]))
    for k, tid in enumerate(normals):
        ahead = sum(1 for other in normals[:k] if called_at_call[other] > issued_after[tid])
        # at most P priority calls between two normal calls while normals wait
        bound = issued_after[tid] + (ahead + 1) * (p + 1)
        assert called_at_call[tid] <= bound, (tid, ratio)


def test_a_long_priority_queue_still_lets_the_oldest_normal_ticket_through():
    waiting = [cand(f"p{i:03}", minute=i, priority=True) for i in range(100)] + [cand("n", minute=500)]
    order = [c.ticket_id for c in call_order(waiting, (4, 1))]
    assert order.index("n") == 4


# ------------------------------------------------------------------ escalation


def test_overdue_ticket_of_a_secondary_category_is_called_before_the_preferred_one():
    policy = DispatchPolicy(escalate_after_s=1800)
    waiting = [cand("a1", "A", 170), cand("b-old", "B", 100)]  # b-old waited 80 min, a1 10 min
    assert next_id(waiting, categories=("A", "B"), policy=policy) == "b-old"
    assert next_id(waiting, categories=("A", "B")) == "a1"  # without escalation


def test_escalation_starts_exactly_at_escalate_after_s():
    waiting = [cand("a1", "A", 175), cand("b1", "B", 150)]  # b1 waited exactly 30 min
    assert next_id(waiting, categories=("A", "B"), policy=DispatchPolicy(escalate_after_s=1800)) == "b1"
    assert next_id(waiting, categories=("A", "B"), policy=DispatchPolicy(escalate_after_s=1801)) == "a1"


def test_escalation_picks_the_longest_waiting_of_the_overdue_tickets():
    policy = DispatchPolicy(escalate_after_s=600)
    waiting = [cand("a1", "A", 170), cand("c-old", "C", 10), cand("b-old", "B", 20)]
    assert next_id(waiting, categories=("A", "B", "C"), policy=policy) == "c-old"


def test_escalation_ignores_categories_the_window_does_not_serve():
    policy = DispatchPolicy(escalate_after_s=600)
    waiting = [cand("a1", "A", 175), cand("z-old", "Z", 0)]
    assert next_id(waiting, categories=("A", "B"), policy=policy) == "a1"


def test_transferred_tickets_still_come_before_overdue_ones():
    policy = DispatchPolicy(escalate_after_s=600)
    waiting = [cand("b-old", "B", 0), cand("moved", "A", 170, target_window=1)]
    assert next_id(waiting, categories=("A", "B"), policy=policy) == "moved"


# ------------------------------------------------------------------ position in queue

queue_members = st.builds(
    Candidate,
    ticket_id=st.integers(0, 10**6).map(lambda i: f"t{i}"),
    category=st.just("A"),
    order_at=st.integers(0, 120).map(lambda m: OPEN + timedelta(minutes=m)),
    priority=st.just(False),
    appointment=st.booleans(),
    target_window=st.just(None),
)
# tickets of other queues: category B, or category A transferred to other windows
noise = st.builds(
    Candidate,
    ticket_id=st.integers(0, 10**6).map(lambda i: f"x{i}"),
    category=st.sampled_from("AB"),
    order_at=st.integers(0, 120).map(lambda m: OPEN + timedelta(minutes=m)),
    priority=st.booleans(),
    appointment=st.booleans(),
    target_window=st.sampled_from([2, 3]),
) | st.builds(
    Candidate,
    ticket_id=st.integers(0, 10**6).map(lambda i: f"y{i}"),
    category=st.just("B"),
    order_at=st.integers(0, 120).map(lambda m: OPEN + timedelta(minutes=m)),
    priority=st.booleans(),
    appointment=st.booleans(),
)


@settings(max_examples=100, deadline=None)
@given(
    queue=st.lists(queue_members, min_size=1, max_size=15, unique_by=lambda c: c.ticket_id),
    others=st.lists(noise, max_size=6, unique_by=lambda c: c.ticket_id),
)
def test_position_is_the_call_order_of_a_window_serving_only_that_category(queue, others):
    waiting = queue + others
    order = call_order(waiting, (2, 1), window=1, categories=("A",))
    assert sorted(c.ticket_id for c in order) == sorted(c.ticket_id for c in queue)
    for i, c in enumerate(order):
        assert position_in_queue(c, waiting) == i + 1


@settings(max_examples=100, deadline=None)
@given(
    queue=st.lists(queue_members, min_size=1, max_size=15, unique_by=lambda c: c.ticket_id),
    priority_ids=st.sets(st.integers(0, 14)),
    ratio=ratios,
    history=st.lists(st.booleans(), max_size=8),
)
def test_position_is_exactly_the_call_order_with_priority_groups_and_history(queue, priority_ids, ratio, history):
    queue = [
        Candidate(c.ticket_id, c.category, c.order_at, i in priority_ids, c.appointment, None)
        for i, c in enumerate(queue)
    ]
    order = call_order(queue, ratio, history=history)
    for i, c in enumerate(order):
        assert position_in_queue(c, queue, history, ratio) == i + 1


def test_position_counts_only_the_same_category_queue():
    waiting = [
        cand("a1", "A", 0),
        cand("b1", "B", 1),
        cand("a2", "A", 2),
        cand("t1", "A", 1, target_window=2),
    ]
    assert position_in_queue(waiting[2], waiting) == 2
    assert position_in_queue(waiting[0], waiting) == 1


def test_position_of_a_priority_ticket_counts_the_normal_tickets_interleaved_before_it():
    # Ratio 2:1, fresh day (no call history): dispatch calls p1, p2, n1, p3 -- p3 is 4th.
    queue = [
        cand("n1", minute=0),
        cand("p1", minute=1, priority=True),
        cand("p2", minute=2, priority=True),
        cand("p3", minute=3, priority=True),
    ]
    order = [c.ticket_id for c in call_order(queue, (2, 1))]
    assert order == ["p1", "p2", "n1", "p3"]
    assert position_in_queue(queue[3], queue, (), (2, 1)) == order.index("p3") + 1


def test_position_of_a_priority_appointment_follows_earlier_appointments():
    # Dispatch calls checked-in appointments strictly by order_at, priority or not.
    queue = [
        cand("appt", minute=0, appointment=True),
        cand("appt-prio", minute=5, appointment=True, priority=True),
    ]
    order = [c.ticket_id for c in call_order(queue, (2, 1))]
    assert order == ["appt", "appt-prio"]
    assert position_in_queue(queue[1], queue) == 2


def test_position_of_tickets_transferred_to_a_window_matches_the_order_that_window_calls_them():
    # Dispatch calls a window's transferred tickets strictly by order_at (priority and
    # category do not matter).
    queue = [
        cand("n-early", "A", 0, target_window=5),
        cand("p-late", "A", 10, priority=True, target_window=5),
        cand("b-mid", "B", 5, target_window=5),
    ]
    order = [c.ticket_id for c in call_order(queue, (2, 1), window=5)]
    assert order == ["n-early", "b-mid", "p-late"]
    told = {c.ticket_id: position_in_queue(c, queue) for c in queue}
    assert told == {"n-early": 1, "b-mid": 2, "p-late": 3}
