"""The ticket: its state machine (API.md "Ticket states") and the moves staff make on it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from hall_server.domain.errors import IllegalTransition, InvalidInput, RecallLimit


class TicketStatus(StrEnum):
    """Where a ticket is in its life."""

    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    MISSED = "missed"
    CANCELLED = "cancelled"


class Outcome(StrEnum):
    """How a service ended (办结 outcome)."""

    COMPLETED = "completed"
    ACCEPTED = "accepted"
    NEEDS_MATERIALS = "needs_materials"
    REJECTED = "rejected"
    CONSULTED = "consulted"


class Channel(StrEnum):
    """Where a ticket was issued."""

    KIOSK = "kiosk"
    COUNTER = "counter"
    ONLINE = "online"
    MOBILE = "mobile"


class Move(StrEnum):
    """The moves on a ticket; each is one endpoint of API.md."""

    CALL = "call"
    RECALL = "recall"
    START = "start"
    FINISH = "finish"
    NO_SHOW = "no-show"
    REQUEUE = "requeue"
    TRANSFER = "transfer"
    CANCEL = "cancel"


W, C, S, D, M, X = (
    TicketStatus.WAITING,
    TicketStatus.CALLED,
    TicketStatus.SERVING,
    TicketStatus.DONE,
    TicketStatus.MISSED,
    TicketStatus.CANCELLED,
)

# move -> (states it is allowed from, state it leads to)
TRANSITIONS: dict[Move, tuple[frozenset[TicketStatus], TicketStatus]] = {
    Move.CALL: (frozenset({W}), C),
    Move.RECALL: (frozenset({C}), C),
    Move.START: (frozenset({C}), S),
    Move.FINISH: (frozenset({S}), D),
    Move.NO_SHOW: (frozenset({C}), M),
    Move.REQUEUE: (frozenset({M}), W),
    Move.TRANSFER: (frozenset({W, C, S}), W),
    Move.CANCEL: (frozenset({W}), X),
}

_STATUS_ZH = {W: "等候中", C: "已呼叫", S: "办理中", D: "已办结", M: "已过号", X: "已取消"}
_MOVE_ZH = {
    Move.CALL: "呼叫",
    Move.RECALL: "重呼",
    Move.START: "开始办理",
    Move.FINISH: "办结",
    Move.NO_SHOW: "过号",
    Move.REQUEUE: "重新排队",
    Move.TRANSFER: "转移",
    Move.CANCEL: "取消",
}


def target_status(current: TicketStatus, move: Move) -> TicketStatus:
    """The state `move` leads to from `current`; IllegalTransition when it is not allowed."""
    allowed, target = TRANSITIONS[move]
    if current not in allowed:
        raise IllegalTransition(
            f"{_STATUS_ZH[current]}的号票不能{_MOVE_ZH[move]}。"
            f"A {current.value} ticket cannot be moved by '{move.value}'.",
            extra={"ticket_status": current.value, "move": move.value},
        )
    return target


def allowed_moves(status: TicketStatus) -> frozenset[Move]:
    """Every move the state allows (the console enables exactly these buttons)."""
    return frozenset(m for m, (sources, _) in TRANSITIONS.items() if status in sources)


@dataclass
class Ticket:
    """A ticket as the domain sees it; moves change it in place and check the state machine."""

    id: str
    hall: str
    number: str
    business_date: str
    category: str
    channel: Channel
    issued_at: datetime
    order_at: datetime
    token: str
    item: str | None = None
    bundle: str | None = None  # 一件事: the bundle this ticket serves, instead of one item
    status: TicketStatus = TicketStatus.WAITING
    priority_group: str | None = None
    priority_reason: str | None = None  # why the group was granted (audit only: may be sensitive)
    priority_granted_by: str | None = None
    appointment: bool = False
    applicant_key: str | None = None
    applicant_masked: str | None = None
    matter_id: str | None = None
    trip: int | None = None  # which trip of its matter this visit is (最多跑一次)
    window: int | None = None
    target_window: int | None = None
    called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    outcome: Outcome | None = None
    recall_count: int = 0
    transfer_count: int = 0
    version: int = 0

    def _move(self, move: Move) -> None:
        self.status = target_status(self.status, move)
        self.version += 1

    def call(self, window: int, now: datetime) -> None:
        """Call the ticket to a window."""
        self._move(Move.CALL)
        self.window = window
        self.target_window = None
        self.called_at = now
        self.recall_count = 0

    def recall(self, now: datetime, max_recalls: int) -> None:
        """Call the ticket again at the same window (重呼)."""
        target_status(self.status, Move.RECALL)
        if self.recall_count >= max_recalls:
            raise RecallLimit(
                f"已重呼{self.recall_count}次，请办理或标记过号。"
                f"Recalled {self.recall_count} times already: start the service or mark a no-show."
            )
        self._move(Move.RECALL)
        # called_at stays the time of the call itself: waits, the board's recent calls and
        # the priority interleave count calls, not recalls (the recall is its own event).
        self.recall_count += 1

    def start(self, now: datetime) -> None:
        """The visitor arrived at the window: service starts."""
        self._move(Move.START)
        self.started_at = now

    def finish(self, outcome: Outcome, now: datetime) -> None:
        """Service ended with an outcome."""
        self._move(Move.FINISH)
        self.outcome = outcome
        self.finished_at = now

    def no_show(self, now: datetime) -> None:
        """The visitor did not come after the calls (过号)."""
        self._move(Move.NO_SHOW)
        self.finished_at = now

    def requeue(self, now: datetime, *, to_tail: bool) -> None:
        """A missed visitor came back: waiting again, at the tail or at the original place."""
        self._move(Move.REQUEUE)
        self.window = None
        self.finished_at = None
        self.called_at = None
        if to_tail:
            self.order_at = now

    def transfer(self, now: datetime, *, category: str | None, window: int | None) -> None:
        """Send the ticket to another category or window; it keeps its original place."""
        if category is None and window is None:
            raise InvalidInput("请指定转移的目标类别或窗口。Give the target category or window.")
        self._move(Move.TRANSFER)
        if category is not None:
            self.category = category
        self.target_window = window
        self.window = None
        self.called_at = None
        self.started_at = None
        self.recall_count = 0
        self.transfer_count += 1
        # order_at keeps the original issued_at: the transferred visitor does not queue again.

    def cancel(self, now: datetime) -> None:
        """The visitor gave up, or staff voided the ticket."""
        self._move(Move.CANCEL)
        self.finished_at = now

    def expire(self, now: datetime) -> None:
        """Close a ticket left over from an earlier business day (not a staff move).

        Waiting, called and missed tickets of a day that has ended are cancelled, so
        the next day's queue and statistics never count them; a ticket still being
        served is left for its staff to finish.
        """
        if self.status not in (TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.MISSED):
            raise IllegalTransition(
                f"{_STATUS_ZH[self.status]}的号票不能作废。A {self.status.value} ticket is not expired.",
                extra={"ticket_status": self.status.value, "move": "expire"},
            )
        self.status = TicketStatus.CANCELLED
        self.finished_at = now
        self.version += 1

    def copy(self) -> Ticket:
        """An independent copy (for fakes and optimistic updates)."""
        return replace(self)
