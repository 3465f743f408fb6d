"""The ticket state machine (API.md "Ticket states") and the bookkeeping each move does."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from hall_server.domain.errors import DomainError, IllegalTransition, InvalidInput, RecallLimit
from hall_server.domain.tickets import (
    TRANSITIONS,
    Channel,
    Move,
    Outcome,
    Ticket,
    TicketStatus,
    allowed_moves,
    target_status,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
ISSUED = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
MAX_RECALLS = 2

W, C, S, D, M, X = (
    TicketStatus.WAITING,
    TicketStatus.CALLED,
    TicketStatus.SERVING,
    TicketStatus.DONE,
    TicketStatus.MISSED,
    TicketStatus.CANCELLED,
)

# API.md "Ticket states", written out independently of tickets.TRANSITIONS:
# waiting -> called -> serving -> done; called -> missed -> waiting;
# waiting|called|serving -> waiting by transfer; waiting -> cancelled; recall keeps called.
DOCUMENTED: dict[tuple[TicketStatus, Move], TicketStatus] = {
    (W, Move.CALL): C,
    (C, Move.RECALL): C,
    (C, Move.START): S,
    (S, Move.FINISH): D,
    (C, Move.NO_SHOW): M,
    (M, Move.REQUEUE): W,
    (W, Move.TRANSFER): W,
    (C, Move.TRANSFER): W,
    (S, Move.TRANSFER): W,
    (W, Move.CANCEL): X,
}
ALL_PAIRS = [(s, m) for s in TicketStatus for m in Move]
ALLOWED_PAIRS = [p for p in ALL_PAIRS if p in DOCUMENTED]
ILLEGAL_PAIRS = [p for p in ALL_PAIRS if p not in DOCUMENTED]


def new_ticket(**overrides) -> Ticket:
    fields = {
        "id": "t-1",
        "hall": "KM-WH",
        "number": "A001",
        "business_date": "2026-11-30",
        "category": "A",
        "channel": Channel.KIOSK,
        "issued_at": ISSUED,
        "order_at": ISSUED,
        "token": "tok",
    }
    fields.update(overrides)
    return Ticket(**fields)


def at(minutes: float) -> datetime:
    return ISSUED + timedelta(minutes=minutes)


def apply(ticket: Ticket, move: Move, now: datetime, **kw) -> None:
    """Make `move` on `ticket` with sensible arguments (a transfer goes to category B)."""
    if move is Move.CALL:
        ticket.call(kw.get("window", 3), now)
    elif move is Move.RECALL:
        ticket.recall(now, kw.get("max_recalls", MAX_RECALLS))
    elif move is Move.START:
        ticket.start(now)
    elif move is Move.FINISH:
        ticket.finish(kw.get("outcome", Outcome.COMPLETED), now)
    elif move is Move.NO_SHOW:
        ticket.no_show(now)
    elif move is Move.REQUEUE:
        ticket.requeue(now, to_tail=kw.get("to_tail", True))
    elif move is Move.TRANSFER:
        ticket.transfer(now, category=kw.get("category", "B"), window=kw.get("target"))
    elif move is Move.CANCEL:
        ticket.cancel(now)
    else:  # pragma: no cover - a new Move must be added here
        raise AssertionError(move)


# Legal paths from a fresh ticket to each state.
PATHS: dict[TicketStatus, tuple[Move, ...]] = {
    W: (),
    C: (Move.CALL,),
    S: (Move.CALL, Move.START),
    D: (Move.CALL, Move.START, Move.FINISH),
    M: (Move.CALL, Move.NO_SHOW),
    X: (Move.CANCEL,),
}


def ticket_in(status: TicketStatus) -> Ticket:
    t = new_ticket()
    for i, move in enumerate(PATHS[status]):
        apply(t, move, at(i + 1))
    assert t.status is status
    return t


# ------------------------------------------------------------------ the transition table


def test_transition_table_is_the_documented_state_machine():
    from_table = {(s, m): target for m, (sources, target) in TRANSITIONS.items() for s in sources}
    assert from_table == DOCUMENTED
    assert set(TRANSITIONS) == set(Move)


@pytest.mark.parametrize("status", list(TicketStatus))
def test_allowed_moves_are_exactly_the_documented_ones(status):
    expected = {m for (s, m) in DOCUMENTED if s is status}
    assert allowed_moves(status) == expected
    assert allowed_moves(status) == {m for m, (sources, _) in TRANSITIONS.items() if status in sources}


@pytest.mark.parametrize("status", [D, X])
def test_done_and_cancelled_tickets_are_final(status):
    assert allowed_moves(status) == frozenset()


def test_a_missed_ticket_can_only_be_requeued():
    assert allowed_moves(M) == {Move.REQUEUE}


@pytest.mark.parametrize(("status", "move"), ALL_PAIRS)
def test_target_status_agrees_with_the_table(status, move):
    if (status, move) in DOCUMENTED:
        assert target_status(status, move) is DOCUMENTED[(status, move)]
    else:
        with pytest.raises(IllegalTransition):
            target_status(status, move)


# ------------------------------------------------------------------ every (status, move) pair


@pytest.mark.parametrize(("status", "move"), ALLOWED_PAIRS)
def test_allowed_move_leads_to_the_documented_state(status, move):
    t = ticket_in(status)
    version = t.version
    apply(t, move, at(30))
    assert t.status is DOCUMENTED[(status, move)]
    assert t.version == version + 1


@pytest.mark.parametrize(("status", "move"), ILLEGAL_PAIRS)
def test_illegal_move_raises_illegal_transition_and_changes_nothing(status, move):
    t = ticket_in(status)
    before = dataclasses.replace(t)
    with pytest.raises(IllegalTransition) as exc:
        apply(t, move, at(30))
    assert exc.value.code == "illegal_transition"
    assert exc.value.status == 409
    # the problem body names the state and the move (key names are the adapter's business)
    assert {status.value, move.value} <= set(exc.value.extra.values())
    assert exc.value.detail  # a sentence a person can act on
    assert t == before


# ------------------------------------------------------------------ call, start, finish, no-show, cancel


def test_call_sets_the_window_and_call_time():
    t = new_ticket()
    t.call(7, at(5))
    assert (t.status, t.window, t.called_at, t.recall_count) == (C, 7, at(5), 0)


def test_call_clears_the_target_window_of_a_transferred_ticket():
    t = new_ticket()
    t.transfer(at(1), category=None, window=7)
    assert t.target_window == 7
    t.call(7, at(2))
    assert t.target_window is None
    assert t.window == 7


def test_start_and_finish_record_times_and_outcome():
    t = ticket_in(C)
    t.start(at(10))
    assert t.started_at == at(10)
    t.finish(Outcome.NEEDS_MATERIALS, at(20))
    assert (t.status, t.outcome, t.finished_at) == (D, Outcome.NEEDS_MATERIALS, at(20))
    assert t.window == 3  # a finished ticket remembers where it was served


def test_no_show_marks_missed_with_a_finish_time():
    t = ticket_in(C)
    t.no_show(at(10))
    assert (t.status, t.finished_at, t.window) == (M, at(10), 3)


def test_cancel_marks_cancelled_with_a_finish_time():
    t = new_ticket()
    t.cancel(at(10))
    assert (t.status, t.finished_at) == (X, at(10))


# ------------------------------------------------------------------ recall


def test_recall_keeps_the_ticket_called_counts_and_keeps_the_first_call_time():
    t = ticket_in(C)
    first_call = t.called_at
    t.recall(at(10), max_recalls=3)
    assert (t.status, t.recall_count, t.called_at) == (C, 1, first_call)
    t.recall(at(11), max_recalls=3)
    assert (t.status, t.recall_count, t.called_at) == (C, 2, first_call)


@pytest.mark.parametrize("max_recalls", [0, 1, 2, 5])
def test_recall_beyond_max_recalls_raises_recall_limit_and_changes_nothing(max_recalls):
    t = ticket_in(C)
    for i in range(max_recalls):
        t.recall(at(10 + i), max_recalls)
    assert t.recall_count == max_recalls
    before = dataclasses.replace(t)
    with pytest.raises(RecallLimit) as exc:
        t.recall(at(30), max_recalls)
    assert exc.value.code == "recall_limit"
    assert exc.value.status == 409
    assert t == before


def test_recall_of_a_non_called_ticket_is_illegal_even_at_the_limit():
    t = ticket_in(S)
    with pytest.raises(IllegalTransition):
        t.recall(at(30), max_recalls=0)


def test_a_new_call_resets_the_recall_count():
    t = ticket_in(C)
    t.recall(at(5), MAX_RECALLS)
    t.no_show(at(6))
    t.requeue(at(7), to_tail=True)
    t.call(4, at(8))
    assert t.recall_count == 0


# ------------------------------------------------------------------ transfer


@pytest.mark.parametrize("status", [W, C, S])
def test_transfer_keeps_the_original_place_and_clears_the_window(status):
    t = ticket_in(status)
    if status is C:
        t.recall(at(10), MAX_RECALLS)
    t.transfer(at(40), category="B", window=None)
    assert t.status is W
    assert t.category == "B"
    assert t.order_at == ISSUED == t.issued_at
    assert t.window is None
    assert t.target_window is None
    assert t.called_at is None
    assert t.started_at is None
    assert t.recall_count == 0
    assert t.transfer_count == 1


def test_transfer_to_a_window_sets_the_target_and_keeps_the_category():
    t = ticket_in(S)
    t.transfer(at(40), category=None, window=9)
    assert (t.status, t.category, t.target_window, t.window) == (W, "A", 9, None)
    assert t.order_at == ISSUED


def test_transfer_to_a_category_clears_an_earlier_window_target():
    t = new_ticket()
    t.transfer(at(1), category=None, window=9)
    t.transfer(at(2), category="C", window=None)
    assert (t.category, t.target_window, t.transfer_count) == ("C", None, 2)


def test_transfer_keeps_order_at_even_after_a_requeue_to_the_tail():
    t = ticket_in(M)
    t.requeue(at(50), to_tail=True)
    t.transfer(at(60), category="B", window=None)
    assert t.order_at == at(50)  # the place the ticket had, not a new one
    assert t.issued_at == ISSUED


def test_transfer_without_target_is_invalid_input_and_changes_nothing():
    t = ticket_in(C)
    before = dataclasses.replace(t)
    with pytest.raises(InvalidInput) as exc:
        t.transfer(at(40), category=None, window=None)
    assert exc.value.code == "invalid_request"
    assert exc.value.status == 422
    assert t == before


# ------------------------------------------------------------------ requeue


def test_requeue_to_tail_moves_order_at_to_now():
    t = ticket_in(M)
    t.requeue(at(45), to_tail=True)
    assert t.status is W
    assert t.order_at == at(45)
    assert t.issued_at == ISSUED
    assert (t.window, t.called_at, t.finished_at) == (None, None, None)


def test_requeue_to_original_place_keeps_order_at():
    t = ticket_in(M)
    t.requeue(at(45), to_tail=False)
    assert t.status is W
    assert t.order_at == ISSUED
    assert (t.window, t.called_at, t.finished_at) == (None, None, None)


# ------------------------------------------------------------------ random walks

_WINDOWLESS = {W, X}
_CALLED_AT = {C, S, D, M}
_STARTED_AT = {S, D}
_FINISHED_AT = {D, M, X}


class TicketWalk(RuleBasedStateMachine):
    """Any sequence of moves either applies or raises a DomainError; the ticket stays consistent."""

    def __init__(self) -> None:
        super().__init__()
        self.ticket = new_ticket()
        self.now = ISSUED
        self.moves_applied = 0
        self.transfers = 0
        self.tail_times = {ISSUED}
        self.max_recalls = MAX_RECALLS

    @rule(
        move=st.sampled_from(list(Move)),
        dt=st.integers(0, 3600),
        window=st.integers(1, 9),
        max_recalls=st.integers(0, 3),
        to_tail=st.booleans(),
        category=st.sampled_from([None, "A", "B"]),
        to_window=st.sampled_from([None, 1, 2]),
        outcome=st.sampled_from(list(Outcome)),
    )
    def make_move(self, move, dt, window, max_recalls, to_tail, category, to_window, outcome):
        self.now += timedelta(seconds=dt)
        t = self.ticket
        before = dataclasses.replace(t)
        status = t.status
        documented = (status, move) in DOCUMENTED
        try:
            apply(
                t,
                move,
                self.now,
                window=window,
                max_recalls=max_recalls,
                to_tail=to_tail,
                category=category,
                target=to_window,
                outcome=outcome,
            )
        except DomainError as err:
            assert t == before, "a refused move changed the ticket"
            if isinstance(err, IllegalTransition):
                assert not documented
            elif isinstance(err, RecallLimit):
                assert documented and move is Move.RECALL and before.recall_count >= max_recalls
            else:
                assert isinstance(err, InvalidInput)
                assert move is Move.TRANSFER and category is None and to_window is None
            return
        assert documented, f"{move} applied to a {status} ticket"
        assert t.status is DOCUMENTED[(status, move)]
        self.moves_applied += 1
        if move is Move.TRANSFER:
            self.transfers += 1
        if move is Move.REQUEUE and to_tail:
            self.tail_times.add(self.now)
        if move is Move.RECALL:
            assert t.recall_count == before.recall_count + 1
            # keep the recall bound meaningful for the invariant below
            self.max_recalls = max(self.max_recalls, max_recalls)

    @invariant()
    def status_is_a_ticket_status(self):
        assert isinstance(self.ticket.status, TicketStatus)

    @invariant()
    def window_is_set_exactly_once_called(self):
        # A done or missed ticket remembers its window; waiting and cancelled ones have none.
        t = self.ticket
        assert (t.window is None) == (t.status in _WINDOWLESS)

    @invariant()
    def only_a_waiting_or_cancelled_ticket_has_a_target_window(self):
        t = self.ticket
        if t.status not in _WINDOWLESS:
            assert t.target_window is None

    @invariant()
    def timestamps_match_the_state(self):
        t = self.ticket
        assert (t.called_at is not None) == (t.status in _CALLED_AT)
        assert (t.started_at is not None) == (t.status in _STARTED_AT)
        assert (t.finished_at is not None) == (t.status in _FINISHED_AT)
        assert (t.outcome is not None) == (t.status is D)
        stamps = [x for x in (t.issued_at, t.called_at, t.started_at, t.finished_at) if x is not None]
        assert stamps == sorted(stamps)

    @invariant()
    def order_is_the_issue_time_or_a_requeue_time(self):
        t = self.ticket
        assert t.issued_at == ISSUED
        assert t.order_at in self.tail_times
        assert t.order_at >= t.issued_at

    @invariant()
    def counters_track_the_moves(self):
        t = self.ticket
        assert t.version == self.moves_applied
        assert t.transfer_count == self.transfers
        assert 0 <= t.recall_count <= self.max_recalls
        if t.status is C and t.recall_count:
            assert t.called_at is not None


TicketWalk.TestCase.settings = settings(
    max_examples=100, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_random_walks_keep_the_ticket_consistent = TicketWalk.TestCase
