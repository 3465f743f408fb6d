"""Evaluations through the real bus with in-memory fakes: who rates, once, rectification, defaults."""

from __future__ import annotations

from typing import Any

import pytest

from hall_server.domain import commands as c
from hall_server.domain.actors import VISITOR, Actor, Role
from hall_server.domain.errors import (
    AlreadyEvaluated,
    Forbidden,
    InvalidInput,
    NotFound,
    NotServed,
    RectificationNotOpen,
)
from hall_server.services.bus import MessageBus
from tests.fakes import FakeClock, FakeStore, make_bus

HALL = "test"
ADMIN = Actor("admin", Role.ADMIN)
MANAGER = Actor("manager-test", Role.MANAGER, hall=HALL)
STAFF = Actor("staff-w1", Role.STAFF, hall=HALL, window=1)
PAD = Actor("device:pad-1", Role.EVALUATOR, hall=HALL)
BOARD = Actor("device:board-1", Role.BOARD, hall=HALL)
FOREIGN_PAD = Actor("device:pad-x", Role.EVALUATOR, hall="other")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()  # a Wednesday, 10:00 in Asia/Shanghai


@pytest.fixture
def store() -> FakeStore:
    return FakeStore.with_hall()


@pytest.fixture
def bus(store: FakeStore, clock: FakeClock) -> MessageBus:
    b = make_bus(store, clock)
    b.handle(c.OpenWindow(STAFF, HALL, 1))
    return b


def served_ticket(bus: MessageBus) -> dict[str, Any]:
    t = bus.handle(c.IssueTicket(ADMIN, HALL, "kiosk", category="A"))
    bus.handle(c.CallNext(STAFF, HALL, 1))
    bus.handle(c.StartService(STAFF, t["id"]))
    return bus.handle(c.FinishService(STAFF, t["id"], outcome="completed"))


def test_a_pad_rates_a_served_ticket_once(bus: MessageBus, store: FakeStore) -> None:
    t = served_ticket(bus)
    e = bus.handle(c.SubmitEvaluation(PAD, 5, "pad", ticket_id=t["id"], comment=" 很快，态度好 "))
    assert (e["level"], e["level_name"], e["channel"], e["comment"]) == (5, "非常满意", "pad", "很快，态度好")
    assert e["window"] == 1 and e["staff"] == "staff-w1" and e["rectification"] is None
    assert store.events[-1]["type"] == "evaluation.submitted"
    assert store.events[-1]["data"]["ticket"]["number"] == t["number"]
    with pytest.raises(AlreadyEvaluated):
        bus.handle(c.SubmitEvaluation(PAD, 1, "pad", ticket_id=t["id"]))


def test_the_visitor_rates_by_the_token_of_the_status_page(bus: MessageBus) -> None:
    t = served_ticket(bus)
    token = t["status_url"].rsplit("/", 1)[1]
    e = bus.handle(c.SubmitEvaluation(VISITOR, 4, "ignored", ticket_token=token))
    assert e["channel"] == "mobile" and e["level"] == 4
    with pytest.raises(NotFound):
        bus.handle(c.SubmitEvaluation(VISITOR, 4, "mobile", ticket_token="not-a-token"))


def test_a_ticket_not_yet_served_cannot_be_rated_and_nothing_is_stored(bus: MessageBus, store: FakeStore) -> None:
    t = bus.handle(c.IssueTicket(ADMIN, HALL, "kiosk", category="A"))
    before = len(store.events)
    with pytest.raises(NotServed):
        bus.handle(c.SubmitEvaluation(PAD, 5, "pad", ticket_id=t["id"]))
    assert len(store.events) == before and store.evaluations == {}


@pytest.mark.parametrize(("actor", "error"), [(STAFF, Forbidden), (BOARD, Forbidden), (FOREIGN_PAD, NotFound)])
def test_staff_boards_and_other_halls_cannot_rate(bus: MessageBus, actor: Actor, error: type[Exception]) -> None:
    t = served_ticket(bus)
    with pytest.raises(error):
        bus.handle(c.SubmitEvaluation(actor, 5, "pad", ticket_id=t["id"]))


def test_bad_level_or_channel_is_refused(bus: MessageBus) -> None:
    t = served_ticket(bus)
    for level, channel in ((0, "pad"), (6, "pad"), (5, "default"), (5, "fax")):
        with pytest.raises(InvalidInput):
            bus.handle(c.SubmitEvaluation(PAD, level, channel, ticket_id=t["id"]))


def test_a_bad_rating_opens_a_case_due_in_working_days_that_a_manager_closes(
    bus: MessageBus, store: FakeStore
) -> None:
    t = served_ticket(bus)
    e = bus.handle(c.SubmitEvaluation(PAD, 2, "pad", ticket_id=t["id"], comment="等太久"))
    # Wednesday 4 March 2026 + 5 working days (Mon-Fri hall) = Wednesday 11 March.
    assert (e["rectification"], e["rectification_due"]) == ("open", "2026-03-11")
    with pytest.raises(Forbidden):
        bus.handle(c.CloseRectification(STAFF, e["id"], "已整改"))
    closed = bus.handle(c.CloseRectification(MANAGER, e["id"], "已回访申请人，调整窗口排班"))
    assert closed["rectification"] == "closed" and closed["closed_by"] == "manager-test"
    assert store.events[-1]["type"] == "evaluation.rectification_closed"
    with pytest.raises(RectificationNotOpen):
        bus.handle(c.CloseRectification(MANAGER, e["id"], "again"))


def test_unrated_services_count_as_basically_satisfied_after_the_working_days(
    bus: MessageBus, store: FakeStore, clock: FakeClock
) -> None:
    rated = served_ticket(bus)
    bus.handle(c.SubmitEvaluation(PAD, 5, "pad", ticket_id=rated["id"]))
    unrated = served_ticket(bus)
    clock.advance(5 * 86400)  # Monday: only three working days have passed
    assert bus.handle(c.ApplyDefaultEvaluations(MANAGER, HALL)) == 0
    clock.advance(3 * 86400)  # Thursday 12 March: the fifth working day (11 March) is over
    assert bus.handle(c.ApplyDefaultEvaluations(MANAGER, HALL)) == 1
    assert bus.handle(c.ApplyDefaultEvaluations(MANAGER, HALL)) == 0
    default = next(e for e in store.evaluations.values() if e.ticket_id == unrated["id"])
    assert (int(default.level), default.channel.value, default.rectification) == (3, "default", None)
    assert store.events[-1]["data"]["default"] is True
    with pytest.raises(Forbidden):
        bus.handle(c.ApplyDefaultEvaluations(STAFF, HALL))
