"""Command handlers through the real MessageBus, with in-memory fakes injected (DESIGN.md "Tests")."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hall_server.domain import commands as c
from hall_server.domain.actors import Actor, Role
from hall_server.domain.errors import (
    ConcurrentUpdate,
    DomainError,
    Forbidden,
    HallClosed,
    IdempotencyKeyReused,
    IllegalTransition,
    InvalidIdNumber,
    InvalidInput,
    NoOpenWindow,
    NotEligible,
    NotFound,
    RecallLimit,
    TicketLimit,
    UnknownCategory,
    UnknownItem,
    WindowBusy,
    WindowClosed,
    WindowPaused,
)
from hall_server.domain.hall import RequeuePosition, Rules
from hall_server.domain.identity import mask_id_number, resident_id_check_char
from hall_server.domain.tickets import TicketStatus
from hall_server.domain.windows import Window, WindowStatus
from hall_server.services.bus import MessageBus
from tests.fakes import (
    SHANGHAI,
    FakeClock,
    FakeStore,
    FakeUnitOfWork,
    RecordingPublisher,
    id_number,
    make_bus,
    make_hall_config,
)

HALL = "test"
ADMIN = Actor("admin", Role.ADMIN)
MANAGER = Actor("manager-test", Role.MANAGER, hall=HALL)
OTHER_MANAGER = Actor("manager-other", Role.MANAGER, hall="other")
STAFF_1 = Actor("staff-w1", Role.STAFF, hall=HALL, window=1)
FLOATER = Actor("floater", Role.STAFF, hall=HALL)
FLOATER_2 = Actor("floater-2", Role.STAFF, hall=HALL)
KIOSK = Actor("kiosk-1", Role.KIOSK, hall=HALL, token_id="dev-kiosk-1")
BOARD = Actor("board-1", Role.BOARD, hall=HALL, token_id="dev-board-1")

A_ITEM = "530124-XK-001"
B_ITEM = "530124-QR-002"


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> FakeStore:
    return FakeStore.with_hall()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def bus(store: FakeStore, clock: FakeClock, publisher: RecordingPublisher) -> MessageBus:
    return make_bus(store, clock, publisher=publisher)


def local(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def open_windows(bus: MessageBus, *numbers: int, actor: Actor = ADMIN) -> None:
    for n in numbers:
        bus.handle(c.OpenWindow(actor, HALL, n))


def issue(
    bus: MessageBus, category: str | None = "A", *, actor: Actor = KIOSK, channel: str = "kiosk", **kw: Any
) -> dict[str, Any]:
    return bus.handle(c.IssueTicket(actor, HALL, channel, category=category, **kw))


def call(bus: MessageBus, window: int, actor: Actor = ADMIN) -> dict[str, Any] | None:
    return bus.handle(c.CallNext(actor, HALL, window))


def serve(bus: MessageBus, clock: FakeClock, window: int, *, seconds: float = 60) -> str:
    """Call, start and finish the next ticket at a window; return its number."""
    called = call(bus, window)
    assert called is not None
    bus.handle(c.StartService(ADMIN, called["id"]))
    clock.advance(seconds)
    bus.handle(c.FinishService(ADMIN, called["id"], outcome="completed"))
    clock.advance(1)
    return called["number"]


def call_order(bus: MessageBus, clock: FakeClock, window: int) -> list[str]:
    """Serve at one window until nothing waits; the numbers in the order they were called."""
    numbers: list[str] = []
    while (called := call(bus, window)) is not None:
        numbers.append(called["number"])
        bus.handle(c.StartService(ADMIN, called["id"]))
        bus.handle(c.FinishService(ADMIN, called["id"], outcome="completed"))
        clock.advance(10)
    return numbers


def status(store: FakeStore, ticket_id: str) -> TicketStatus:
    return store.tickets[ticket_id].status


def window(store: FakeStore, number: int) -> Window:
    return store.windows[(HALL, number)]


def snapshot(store: FakeStore) -> tuple[Any, ...]:
    """Everything a failed command must leave untouched."""
    return (
        {k: replace(t) for k, t in store.tickets.items()},
        {k: replace(w) for k, w in store.windows.items()},
        dict(store.counters),
        dict(store.idempotency),
        dict(store.hall_seq),
        len(store.events),
    )


def bad_check_char(number: str) -> str:
    """The same number with a wrong check character."""
    right = number[17]
    wrong = next(ch for ch in "0123456789X" if ch != right)
    return number[:17] + wrong


# ---------------------------------------------------------------- issuing: numbers


def test_numbers_run_per_category_from_001(bus: MessageBus, store: FakeStore) -> None:
    open_windows(bus, 2)
    numbers = [issue(bus, "A")["number"], issue(bus, "A")["number"], issue(bus, "B")["number"]]
    assert numbers == ["A001", "A002", "B001"]
    assert {t.number for t in store.tickets.values()} == {"A001", "A002", "B001"}


def test_issued_ticket_body_has_the_api_fields(bus: MessageBus, clock: FakeClock) -> None:
    open_windows(bus, 1)
    body = issue(bus, "A")
    assert body["status"] == "waiting"
    assert body["hall"] == HALL and body["category"] == "A" and body["item"] is None
    assert body["issued_at"] == "2026-03-04T10:00:00+08:00"
    assert body["position"] == 1 and body["estimated_wait_s"] == 0
    assert body["status_url"].startswith("http://hall.test/t/")


def test_numbering_restarts_at_local_midnight_and_keeps_the_previous_days_numbers(
    bus: MessageBus, store: FakeStore, clock: FakeClock
) -> None:
    open_windows(bus, 1)
    clock.set(local(2026, 3, 4, 23, 50))
    first = [issue(bus, "A"), issue(bus, "A")]
    # 00:10 in Kunming is still 16:10 UTC of the same UTC day: the hall's day decides.
    clock.advance(20 * 60)
    assert clock.now().date() == date(2026, 3, 4)
    next_day = issue(bus, "A")
    assert next_day["issued_at"] == "2026-03-05T00:10:00+08:00"
    assert [t["number"] for t in first] == ["A001", "A002"]
    assert next_day["number"] == "A001"
    assert next_day["id"] not in {t["id"] for t in first}
    days = sorted((t.business_date, t.number) for t in store.tickets.values())
    assert days == [("2026-03-04", "A001"), ("2026-03-04", "A002"), ("2026-03-05", "A001")]


def test_numbers_are_never_reused_within_a_day_even_after_cancelling(bus: MessageBus) -> None:
    open_windows(bus, 1)
    first = issue(bus, "A")
    bus.handle(c.CancelTicket(ADMIN, first["id"]))
    assert issue(bus, "A")["number"] == "A002"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(categories=st.lists(st.sampled_from(["A", "B", "F"]), min_size=1, max_size=15))
def test_each_category_numbers_consecutively_whatever_the_interleaving(categories: list[str]) -> None:
    store = FakeStore.with_hall()
    bus = make_bus(store, FakeClock())
    open_windows(bus, 2, 4)
    numbers = [issue(bus, cat)["number"] for cat in categories]
    for cat in "ABF":
        mine = [n for n in numbers if n.startswith(cat)]
        assert mine == [f"{cat}{i:03d}" for i in range(1, len(mine) + 1)]


def test_numbers_widen_past_999_instead_of_wrapping(bus: MessageBus, store: FakeStore) -> None:
    open_windows(bus, 1)
    store.counters[(HALL, "A", date(2026, 3, 4))] = 999
    assert issue(bus, "A")["number"] == "A1000"


# ---------------------------------------------------------------- issuing: what is asked for


def test_issuing_by_item_takes_the_items_category(bus: MessageBus) -> None:
    open_windows(bus, 3)
    body = issue(bus, None, item=B_ITEM)
    assert body["category"] == "B"
    assert body["item"] == B_ITEM
    assert body["number"] == "B001"


def test_item_and_category_that_disagree_are_invalid_input(bus: MessageBus, store: FakeStore) -> None:
    open_windows(bus, 2)
    with pytest.raises(InvalidInput):
        issue(bus, "A", item=B_ITEM)
    assert store.tickets == {}


@pytest.mark.parametrize(
    ("kw", "error"),
    [({"category": "Z"}, UnknownCategory), ({"category": None, "item": "530124-XX-999"}, UnknownItem)],
    ids=["unknown-category", "unknown-item"],
)
def test_unknown_category_or_item_is_refused_and_stores_nothing(
    bus: MessageBus, store: FakeStore, kw: dict[str, Any], error: type[Exception]
) -> None:
    open_windows(bus, 1)
    before = snapshot(store)
    with pytest.raises(error):
        bus.handle(c.IssueTicket(KIOSK, HALL, "kiosk", **kw))
    assert snapshot(store) == before


def test_an_unknown_channel_is_invalid_input(bus: MessageBus, store: FakeStore) -> None:
    open_windows(bus, 1)
    with pytest.raises(InvalidInput):
        issue(bus, "A", channel="fax")
    assert store.tickets == {}


def _with_birth_date(first6: str, yyyymmdd: str) -> str:
    first17 = f"{first6}{yyyymmdd}123"
    return first17 + resident_id_check_char(first17)


@pytest.mark.parametrize(
    "number",
    [
        bad_check_char(id_number()),
        _with_birth_date("530102", "19900230"),  # 30 February
        _with_birth_date("530102", "20990101"),  # born in the future
        _with_birth_date("990102", "19900101"),  # no such province
        "53010219900101123",  # 17 characters
    ],
    ids=["check-char", "impossible-date", "future-date", "region", "length"],
)
def test_an_invalid_id_number_is_refused_and_nothing_is_stored(
    bus: MessageBus, store: FakeStore, publisher: RecordingPublisher, number: str
) -> None:
    open_windows(bus, 1)
    before = snapshot(store)
    published = len(publisher.envelopes)
    with pytest.raises(InvalidIdNumber):
        issue(bus, "A", applicant=c.Applicant("resident_id", number))
    assert snapshot(store) == before
    assert len(publisher.envelopes) == published
    # The refused request did not use up a number either.
    assert issue(bus, "A")["number"] == "A001"


def test_a_valid_generated_id_number_is_accepted(bus: MessageBus, store: FakeStore) -> None:
    open_windows(bus, 1)
    number = id_number()
    body = issue(bus, "A", applicant=c.Applicant("resident_id", number.lower()))
    assert body["applicant"] == mask_id_number(number)
    assert store.tickets[body["id"]].applicant_key is not None


@pytest.mark.parametrize(
    "when",
    [local(2026, 3, 8, 10), local(2026, 3, 4, 3), local(2026, 3, 4, 12, 30), local(2026, 3, 4, 17, 30)],
    ids=["sunday", "three-am", "lunch-break", "closing-time"],
)
def test_a_closed_hall_issues_no_ticket(store: FakeStore, clock: FakeClock, when: datetime) -> None:
    bus = make_bus(store, clock, always_open=False)
    open_windows(bus, 1)
    clock.set(when)
    with pytest.raises(HallClosed):
        issue(bus, "A")
    assert store.tickets == {}


def test_an_open_hall_issues_inside_its_hours_without_always_open(store: FakeStore, clock: FakeClock) -> None:
    bus = make_bus(store, clock, always_open=False)
    open_windows(bus, 1)
    clock.set(local(2026, 3, 6, 17, 29))  # Friday, the last minute
    assert issue(bus, "A")["number"] == "A001"


def test_always_open_issues_on_a_sunday_night(bus: MessageBus, clock: FakeClock) -> None:
    open_windows(bus, 1)
    clock.set(local(2026, 3, 8, 3))
    assert issue(bus, "A")["number"] == "A001"


def test_no_open_window_for_the_category_refuses_the_ticket(bus: MessageBus, store: FakeStore) -> None:
    with pytest.raises(NoOpenWindow):
        issue(bus, "A")
    open_windows(bus, 3)  # serves B only
    with pytest.raises(NoOpenWindow):
        issue(bus, "A")
    with pytest.raises(NoOpenWindow):
        issue(bus, "F")
    assert issue(bus, "B")["number"] == "B001"
    assert [t.category for t in store.tickets.values()] == ["B"]


def test_a_window_that_closed_again_no_longer_counts_as_open(bus: MessageBus) -> None:
    open_windows(bus, 1)
    bus.handle(c.CloseWindow(ADMIN, HALL, 1))
    with pytest.raises(NoOpenWindow):
        issue(bus, "A")


def test_the_daily_limit_per_person_refuses_the_next_ticket(store: FakeStore, clock: FakeClock) -> None:
    store = FakeStore.with_hall(make_hall_config(rules=Rules(tickets_per_person_per_day=2)))
    bus = make_bus(store, clock)
    open_windows(bus, 2)
    person = id_number()
    first = issue(bus, "A", applicant=c.Applicant("resident_id", person))
    bus.handle(c.CancelTicket(ADMIN, first["id"]))  # cancelled tickets still count
    issue(bus, "B", applicant=c.Applicant("resident_id", person))
    with pytest.raises(TicketLimit):
        issue(bus, "A", applicant=c.Applicant("resident_id", person))
    assert len(store.tickets) == 2
    # Someone else may still take a number, and so may the same person tomorrow.
    issue(bus, "A", applicant=c.Applicant("resident_id", id_number()))
    clock.set(local(2026, 3, 5, 9, 30))
    assert issue(bus, "A", applicant=c.Applicant("resident_id", person))["number"] == "A001"


# ---------------------------------------------------------------- issuing: idempotency


def _keyed(key: str, fingerprint: str | None, category: str = "A") -> c.IssueTicket:
    return c.IssueTicket(
        KIOSK, HALL, "kiosk", category=category, idempotency_key=key, request_fingerprint=fingerprint
    )


def test_an_idempotency_key_replay_returns_the_first_ticket_and_changes_nothing(
    bus: MessageBus, store: FakeStore, publisher: RecordingPublisher
) -> None:
    open_windows(bus, 1)
    events_before = len(store.events)
    first = bus.handle(_keyed("k-1", "fp-1"))
    replay = bus.handle(_keyed("k-1", "fp-1"))
    assert replay == first
    assert len(store.tickets) == 1
    assert store.event_types()[events_before:] == ["ticket.issued"]
    assert [e["type"] for e in publisher.envelopes].count("ticket.issued") == 1
    assert issue(bus, "A")["number"] == "A002"


def test_the_same_idempotency_key_with_a_different_body_is_refused(bus: MessageBus, store: FakeStore) -> None:
    open_windows(bus, 2)
    bus.handle(_keyed("k-1", "fp-1"))
    before = snapshot(store)
    with pytest.raises(IdempotencyKeyReused):
        bus.handle(_keyed("k-1", "fp-2", category="B"))
    assert snapshot(store) == before


def test_an_idempotency_key_without_a_fingerprint_replays_the_first_ticket(bus: MessageBus) -> None:
    open_windows(bus, 1)
    first = bus.handle(_keyed("k-1", None))
    assert bus.handle(_keyed("k-1", None)) == first


def raced_factory(
    store: FakeStore, repo: str, method: str, race: Callable[[], object]
) -> tuple[Callable[[], FakeUnitOfWork], list[FakeUnitOfWork]]:
    """A unit-of-work factory whose first unit of work lets `race` (another request) commit
    right after its first call of `uow.<repo>.<method>`; also the list of units made."""
    made: list[FakeUnitOfWork] = []

    def factory() -> FakeUnitOfWork:
        uow = FakeUnitOfWork(store)
        if not made:
            target = getattr(uow, repo)
            original = getattr(target, method)
            fired: list[bool] = []

            def raced(*args: Any, **kw: Any) -> Any:
                result = original(*args, **kw)
                if not fired:
                    fired.append(True)
                    race()
                return result

            setattr(target, method, raced)
        made.append(uow)
        return uow

    return factory, made


def test_a_concurrent_request_with_the_same_key_gets_the_winners_ticket(
    store: FakeStore, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    winner_bus = make_bus(store, clock, publisher=publisher)
    open_windows(winner_bus, 1)
    cmd = _keyed("k-race", "fp")
    results: list[dict[str, Any]] = []
    factory, made = raced_factory(store, "idempotency", "get", lambda: results.append(winner_bus.handle(cmd)))
    loser_bus = make_bus(store, clock, publisher=publisher, uow_factory=factory)
    body = loser_bus.handle(cmd)
    assert len(made) == 2  # the first try hit DuplicateKey and rolled back; the bus ran it again
    assert made[0].rolled_back and not made[0].committed
    assert body == results[0]
    assert len(store.tickets) == 1
    assert store.event_types().count("ticket.issued") == 1
    assert [e["type"] for e in publisher.envelopes].count("ticket.issued") == 1
    assert issue(winner_bus, "A")["number"] == "A002"  # the loser's A001 was rolled back too


# ---------------------------------------------------------------- personal data


def test_the_issued_event_carries_only_the_masked_applicant(
    bus: MessageBus, store: FakeStore, publisher: RecordingPublisher
) -> None:
    open_windows(bus, 1)
    number = id_number()
    body = issue(bus, "A", applicant=c.Applicant("resident_id", number, name="张三"))
    call(bus, 1)
    bus.handle(c.StartService(ADMIN, body["id"]))
    bus.handle(c.FinishService(ADMIN, body["id"], outcome="accepted"))
    issued = next(e for e in store.events if e["type"] == "ticket.issued")
    assert issued["data"]["ticket"]["applicant"] == mask_id_number(number)
    assert issued["data"]["ticket"]["number"] == "A001"
    applicant_key = store.tickets[body["id"]].applicant_key
    assert applicant_key is not None
    for where in (store.events, publisher.envelopes, [s.body for s in store.idempotency.values()], body):
        text = json.dumps(where, ensure_ascii=False)
        assert number not in text
        assert number[6:14] not in text  # not even the birth date
        assert applicant_key not in text
        assert "张三" not in text


def test_events_do_not_carry_the_status_page_token(
    bus: MessageBus, store: FakeStore, publisher: RecordingPublisher
) -> None:
    open_windows(bus, 1)
    body = issue(bus, "A")
    token = store.tickets[body["id"]].token
    assert token not in json.dumps(store.events)
    assert token not in json.dumps(publisher.envelopes)


# ---------------------------------------------------------------- call next: who is next


def test_call_next_follows_the_windows_category_preference(bus: MessageBus, clock: FakeClock) -> None:
    open_windows(bus, 4)
    issue(bus, "A")
    clock.advance(30)
    issue(bus, "F")
    # Window 4 serves F first, A second: the younger F ticket goes before the older A one.
    assert call_order(bus, clock, 4) == ["F001", "A001"]


def test_call_next_serves_the_second_category_only_when_the_first_is_empty(
    bus: MessageBus, clock: FakeClock
) -> None:
    open_windows(bus, 2)
    issue(bus, "B")
    clock.advance(30)
    issue(bus, "A")
    clock.advance(30)
    issue(bus, "B")
    assert call_order(bus, clock, 2) == ["A001", "B001", "B002"]


def test_call_next_is_first_in_first_out_within_a_category(bus: MessageBus, clock: FakeClock) -> None:
    open_windows(bus, 1)
    for _ in range(4):
        issue(bus, "A")
        clock.advance(5)
    assert call_order(bus, clock, 1) == ["A001", "A002", "A003", "A004"]


def test_call_next_marks_the_ticket_called_at_that_window(
    bus: MessageBus, store: FakeStore, clock: FakeClock
) -> None:
    open_windows(bus, 1)
    ticket = issue(bus, "A")
    clock.advance(90)
    called = call(bus, 1)
    assert called is not None
    assert called["id"] == ticket["id"] and called["status"] == "called" and called["window"] == 1
    assert called["called_at"] == "2026-03-04T10:01:30+08:00"
    assert called["position"] is None and called["estimated_wait_s"] is None
    assert window(store, 1).current_ticket == ticket["id"]
    event = store.events[-1]
    assert event["type"] == "ticket.called"
    assert event["data"]["window"] == 1 and event["data"]["ticket"]["number"] == "A001"


def test_call_next_returns_none_when_nothing_waits_and_records_nothing(
    bus: MessageBus, store: FakeStore, publisher: RecordingPublisher
) -> None:
    open_windows(bus, 1, 3)
    issue(bus, "B")  # waits, but not for window 1
    before = snapshot(store)
    batches = len(publisher.batches)
    assert call(bus, 1) is None
    assert snapshot(store) == before
    assert len(publisher.batches) == batches


def test_two_windows_never_get_the_same_ticket(bus: MessageBus, store: FakeStore) -> None:
    open_windows(bus, 1, 2)
    issue(bus, "A")
    issue(bus, "A")
    first, second = call(bus, 1), call(bus, 2)
    assert first is not None and second is not None
    assert first["id"] != second["id"]
    assert {t.window for t in store.tickets.values()} == {1, 2}


def test_a_ticket_transferred_to_another_category_keeps_its_original_place(
    bus: MessageBus, store: FakeStore, clock: FakeClock
) -> None:
    open_windows(bus, 1, 3)
    a = issue(bus, "A")
    clock.advance(60)
    issue(bus, "B")
    clock.advance(60)
    issue(bus, "B")
    assert call(bus, 1) is not None
    moved = bus.handle(c.TransferTicket(ADMIN, a["id"], category="B"))
    assert moved["status"] == "waiting" and moved["category"] == "B"
    assert moved["issued_at"] == a["issued_at"]
    assert moved["position"] == 1
    assert window(store, 1).current_ticket is None  # the transfer freed window 1
    assert call_order(bus, clock, 3) == ["A001", "B001", "B002"]


def test_a_ticket_transferred_to_a_window_goes_only_to_that_window_and_first(
    bus: MessageBus, store: FakeStore, clock: FakeClock
) -> None:
    open_windows(bus, 1, 2)
    issue(bus, "A")
    clock.advance(60)
    b = issue(bus, "B")
    clock.advance(60)
    bus.handle(c.TransferTicket(ADMIN, b["id"], window=2))
    t = store.tickets[b["id"]]
    assert t.target_window == 2 and t.transfer_count == 1
    # Window 1 (A only) does not see it; window 2 takes it before the older A001.
    assert call_order(bus, clock, 1) == ["A001"]
    issue(bus, "A")
    clock.advance(60)
    assert call_order(bus, clock, 2) == ["B001", "A002"]


def test_a_targeted_transfer_waits_in_its_windows_own_queue(bus: MessageBus, clock: FakeClock) -> None:
    open_windows(bus, 1, 2)
    issue(bus, "A")
    clock.advance(10)
    second = issue(bus, "A")
    clock.advance(10)
    third = issue(bus, "A")
    moved = bus.handle(c.TransferTicket(ADMIN, third["id"], window=2))
    assert moved["target_window"] == 2
    # Alone in window 2's own queue, and no longer counted in the category's queue.
    assert moved["position"] == 1
    assert moved["estimated_wait_s"] == 0
    assert bus.handle(c.TransferTicket(ADMIN, second["id"], window=2))["position"] == 1  # older than third


def test_priority_and_normal_tickets_interleave_two_to_one(bus: MessageBus, clock: FakeClock) -> None:
    open_windows(bus, 1)
    for _ in range(4):
        issue(bus, "A")  # A001..A004 normal
        clock.advance(1)
    for group in ("elderly", "disabled", "military", "pregnant", "elderly"):
        issue(bus, "A", priority_group=group)  # A005..A009 priority
        clock.advance(1)
    assert call_order(bus, clock, 1) == [
        "A005",
        "A006",
        "A001",
        "A007",
        "A008",
        "A002",
        "A009",
        "A003",
        "A004",
    ]


def test_the_priority_ratio_is_kept_across_windows_of_the_category(bus: MessageBus, clock: FakeClock) -> None:
    open_windows(bus, 1, 2)
    for _ in range(3):
        issue(bus, "A")
        clock.advance(1)
    for _ in range(3):
        issue(bus, "A", priority_group="elderly")
        clock.advance(1)
    order = []
    for w in (1, 2, 1, 2, 1, 2):
        called = call(bus, w)
        assert called is not None
        order.append(called["number"])
        bus.handle(c.StartService(ADMIN, called["id"]))
        bus.handle(c.FinishService(ADMIN, called["id"]))
        clock.advance(5)
    assert order == ["A004", "A005", "A001", "A006", "A002", "A003"]


def test_a_ticket_waiting_past_the_escalation_limit_goes_before_the_preferred_category(
    clock: FakeClock,
) -> None:
    store = FakeStore.with_hall(make_hall_config(rules=Rules(escalate_after_s=600)))
    bus = make_bus(store, clock)
    open_windows(bus, 2)
    issue(bus, "B")
    clock.advance(300)
    issue(bus, "A")
    clock.advance(1)
    # B001 has waited 301 s: window 2 still prefers A.
    first = call(bus, 2)
    assert first is not None and first["number"] == "A001"
    bus.handle(c.StartService(ADMIN, first["id"]))
    bus.handle(c.FinishService(ADMIN, first["id"]))
    issue(bus, "A")
    clock.advance(300)
    # Now B001 has waited 601 s and goes before the younger A002.
    assert call_order(bus, clock, 2) == ["B001", "A002"]


# ---------------------------------------------------------------- call next: window state


def test_call_next_at_a_window_holding_a_ticket_is_window_busy(bus: MessageBus, store: FakeStore) -> None:
    open_windows(bus, 1)
    issue(bus, "A")
    issue(bus, "A")
    first = call(bus, 1)
    assert first is not None
    before = snapshot(store)
    with pytest.raises(WindowBusy):
        call(bus, 1)
    bus.handle(c.StartService(ADMIN, first["id"]))
    with pytest.raises(WindowBusy):
        call(bus, 1)
    assert snapshot(store)[0].keys() == before[0].keys()
    assert sorted(str(t.status) for t in store.tickets.values()) == ["serving", "waiting"]


def test_call_next_at_a_paused_window_is_window_paused(bus: MessageBus, store: FakeStore) -> None:
    open_windows(bus, 1)
    issue(bus, "A")
    bus.handle(c.PauseWindow(ADMIN, HALL, 1, reason="系统维护"))
    before = snapshot(store)
    with pytest.raises(WindowPaused):
        call(bus, 1)
    assert snapshot(store) == before
    bus.handle(c.ResumeWindow(ADMIN, HALL, 1))
    assert call(bus, 1) is not None


def test_call_next_at_a_closed_window_is_window_closed(bus: MessageBus, store: FakeStore) -> None:
    open_windows(bus, 2)
    issue(bus, "A")
    before = snapshot(store)
    with pytest.raises(WindowClosed):
        call(bus, 1)
    assert snapshot(store) == before


def test_a_double_click_on_call_next_calls_one_ticket_and_leaves_the_other_waiting(
    store: FakeStore, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    bus = make_bus(store, clock, publisher=publisher)
    open_windows(bus, 1)
    first = issue(bus, "A")
    clock.advance(1)
    second = issue(bus, "A")
    batches = len(publisher.batches)
    # The second click reads window 1 as free, then the first click commits its call.
    factory, made = raced_factory(store, "windows", "get", lambda: call(bus, 1))
    racing = make_bus(store, clock, publisher=publisher, uow_factory=factory)
    with pytest.raises(WindowBusy):
        racing.handle(c.CallNext(ADMIN, HALL, 1))
    assert made[0].rolled_back
    assert status(store, first["id"]) is TicketStatus.CALLED
    assert status(store, second["id"]) is TicketStatus.WAITING  # its claim was rolled back
    assert window(store, 1).current_ticket == first["id"]
    assert store.event_types().count("ticket.called") == 1
    assert len(publisher.batches) == batches + 1


def test_a_call_that_loses_its_ticket_to_another_window_takes_the_next_one(
    store: FakeStore, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    bus = make_bus(store, clock, publisher=publisher)
    open_windows(bus, 1, 2)
    first = issue(bus, "A")
    clock.advance(1)
    second = issue(bus, "A")
    # Window 2 claims A001 after window 1 chose it but before window 1 wrote its claim.
    factory, _ = raced_factory(store, "tickets", "get", lambda: call(bus, 2))
    racing = make_bus(store, clock, publisher=publisher, uow_factory=factory)
    called = racing.handle(c.CallNext(ADMIN, HALL, 1))
    assert called is not None and called["id"] == second["id"]
    assert store.tickets[first["id"]].window == 2
    assert store.tickets[second["id"]].window == 1
    assert window(store, 1).current_ticket == second["id"]
    assert window(store, 2).current_ticket == first["id"]
    calls = [e["data"]["ticket"]["number"] for e in store.events if e["type"] == "ticket.called"]
    assert calls == ["A001", "A002"]


def test_a_ticket_changed_meanwhile_is_a_concurrent_update(
    store: FakeStore, clock: FakeClock, publisher: RecordingPublisher
) -> None:
    bus = make_bus(store, clock, publisher=publisher)
    open_windows(bus, 1)
    ticket = issue(bus, "A")
    call(bus, 1)
    factory, _ = raced_factory(
        store, "tickets", "get", lambda: bus.handle(c.RecallTicket(ADMIN, ticket["id"]))
    )
    racing = make_bus(store, clock, publisher=publisher, uow_factory=factory)
    with pytest.raises(ConcurrentUpdate):
        racing.handle(c.RecallTicket(ADMIN, ticket["id"]))
    assert store.tickets[ticket["id"]].recall_count == 1
    assert store.event_types().count("ticket.recalled") == 1
    assert [e["type"] for e in publisher.envelopes].count("ticket.recalled") == 1


# ---------------------------------------------------------------- recall, start, finish


def test_recall_counts_up_and_stops_at_the_halls_limit(
    bus: MessageBus, store: FakeStore, clock: FakeClock
) -> None:
    open_windows(bus, 1)
    ticket = issue(bus, "A")
    call(bus, 1)
    for expected in (1, 2):
        clock.advance(30)
        body = bus.handle(c.RecallTicket(ADMIN, ticket["id"]))
        assert body["status"] == "called" and body["recall_count"] == expected
    before = snapshot(store)
    with pytest.raises(RecallLimit):
        bus.handle(c.RecallTicket(ADMIN, ticket["id"]))
    assert snapshot(store) == before
    recalled = [e for e in store.events if e["type"] == "ticket.recalled"]
    assert [e["data"]["recall_count"] for e in recalled] == [1, 2]
    assert recalled[-1]["data"]["window"] == 1


def test_recall_of_a_waiting_ticket_is_an_illegal_transition(bus: MessageBus) -> None:
    open_windows(bus, 1)
    ticket = issue(bus, "A")
    with pytest.raises(IllegalTransition):
        bus.handle(c.RecallTicket(ADMIN, ticket["id"]))


def test_start_then_finish_frees_the_window(bus: MessageBus, store: FakeStore, clock: FakeClock) -> None:
    open_windows(bus, 1)
    ticket = issue(bus, "A")
    clock.advance(1)
    issue(bus, "A")
    clock.advance(119)
    call(bus, 1)
    clock.advance(30)
    started = bus.handle(c.StartService(ADMIN, ticket["id"]))
    assert started["status"] == "serving"
    assert window(store, 1).current_ticket == ticket["id"]
    clock.advance(400)
    done = bus.handle(c.FinishService(ADMIN, ticket["id"], outcome="needs_materials"))
    assert done["status"] == "done" and done["outcome"] == "needs_materials"
    assert done["finished_at"] == "2026-03-04T10:09:10+08:00"
    assert window(store, 1).current_ticket is None
    finished = store.events[-1]
    assert finished["type"] == "ticket.finished"
    assert finished["data"]["service_s"] == 400 and finished["data"]["wait_s"] == 120
    assert finished["data"]["outcome"] == "needs_materials" and finished["data"]["window"] == 1
    nxt = call(bus, 1)
    assert nxt is not None and nxt["number"] == "A002"


def test_finish_with_an_unknown_outcome_is_invalid_input_and_changes_nothing(
    bus: MessageBus, store: FakeStore
) -> None:
    open_windows(bus, 1)
    ticket = issue(bus, "A")
    call(bus, 1)
    bus.handle(c.StartService(ADMIN, ticket["id"]))
    before = snapshot(store)
    with pytest.raises(InvalidInput):
        bus.handle(c.FinishService(ADMIN, ticket["id"], outcome="lost"))
    assert snapshot(store) == before
    assert status(store, ticket["id"]) is TicketStatus.SERVING


def test_finish_of_a_called_ticket_that_never_started_is_an_illegal_transition(bus: MessageBus) -> None:
    open_windows(bus, 1)
    ticket = issue(bus, "A")
    call(bus, 1)
    with pytest.raises(IllegalTransition):
        bus.handle(c.FinishService(ADMIN, ticket["id"], outcome="completed"))


# ---------------------------------------------------------------- no-show and requeue


def _missed_first_of_two(bus: MessageBus, clock: FakeClock) -> tuple[dict[str, Any], dict[str, Any]]:
    open_windows(bus, 1)
    first = issue(bus, "A")
    clock.advance(10)
    second = issue(bus, "A")
    clock.advance(10)
    call(bus, 1)
    clock.advance(60)
    missed = bus.handle(c.MarkNoShow(ADMIN, first["id"]))
    assert missed["status"] == "missed"
    clock.advance(60)
    return first, second


def test_no_show_frees_the_window_and_requeue_goes_to_the_tail_by_default(
    bus: MessageBus, store: FakeStore, clock: FakeClock
) -> None:
    first, _ = _missed_first_of_two(bus, clock)
    assert window(store, 1).current_ticket is None
    back = bus.handle(c.RequeueTicket(ADMIN, first["id"]))
    assert back["status"] == "waiting" and back["window"] is None
    assert back["position"] == 2
    assert store.event_types()[-2:] == ["ticket.missed", "ticket.requeued"]
    assert call_order(bus, clock, 1) == ["A002", "A001"]


def test_requeue_to_the_original_place_when_the_hall_says_so(store: FakeStore, clock: FakeClock) -> None:
    store = FakeStore.with_hall(make_hall_config(rules=Rules(requeue_to=RequeuePosition.ORIGINAL)))
    bus = make_bus(store, clock)
    first, _ = _missed_first_of_two(bus, clock)
    back = bus.handle(c.RequeueTicket(ADMIN, first["id"]))
    assert back["position"] == 1
    assert call_order(bus, clock, 1) == ["A001", "A002"]


def test_requeue_of_a_ticket_that_was_not_missed_is_an_illegal_transition(bus: MessageBus) -> None:
    open_windows(bus, 1)
    ticket = issue(bus, "A")
    with pytest.raises(IllegalTransition):
        bus.handle(c.RequeueTicket(ADMIN, ticket["id"]))


# ---------------------------------------------------------------- transfer and cancel


def test_transfer_to_a_window_that_does_not_serve_the_category_is_refused(
    bus: MessageBus, store: FakeStore
) -> None:
    open_windows(bus, 1, 3)
    ticket = issue(bus, "A")
    call(bus, 1)
    before = snapshot(store)
    with pytest.raises(InvalidInput):
        bus.handle(c.TransferTicket(ADMIN, ticket["id"], window=3))  # window 3 serves B only
    with pytest.raises(InvalidInput):
        bus.handle(c.TransferTicket(ADMIN, ticket["id"], category="F", window=3))
    with pytest.raises(UnknownCategory):
        bus.handle(c.TransferTicket(ADMIN, ticket["id"], category="Z"))
    with pytest.raises(InvalidInput):
        bus.handle(c.TransferTicket(ADMIN, ticket["id"]))  # no target at all
    assert snapshot(store) == before


def test_transfer_with_a_new_category_to_a_window_serving_it_is_allowed(
    bus: MessageBus, store: FakeStore
) -> None:
    open_windows(bus, 1, 3)
    ticket = issue(bus, "A")
    moved = bus.handle(c.TransferTicket(ADMIN, ticket["id"], category="B", window=3))
    assert moved["category"] == "B" and moved["target_window"] == 3
    event = store.events[-1]
    assert event["type"] == "ticket.transferred"
    assert event["data"]["from_category"] == "A" and event["data"]["to_category"] == "B"
    assert event["data"]["to_window"] == 3


def test_transfer_to_a_closed_window_is_refused_and_changes_nothing(bus: MessageBus, store: FakeStore) -> None:
    open_windows(bus, 1)
    ticket = issue(bus, "A")
    before = snapshot(store)
    with pytest.raises(WindowClosed):
        bus.handle(c.TransferTicket(ADMIN, ticket["id"], window=2))  # serves A, but closed
    assert snapshot(store) == before


def test_cancel_voids_a_waiting_ticket(bus: MessageBus, store: FakeStore) -> None:
    open_windows(bus, 1)
    ticket = issue(bus, "A")
    body = bus.handle(c.CancelTicket(ADMIN, ticket["id"]))
    assert body["status"] == "cancelled" and body["position"] is None
    assert store.event_types()[-1] == "ticket.cancelled"


@pytest.mark.parametrize("state", ["called", "serving", "done", "missed", "cancelled"])
def test_cancel_from_any_state_but_waiting_is_illegal_and_changes_nothing(
    bus: MessageBus, store: FakeStore, publisher: RecordingPublisher, state: str
) -> None:
    open_windows(bus, 1)
    ticket = issue(bus, "A")
    tid = ticket["id"]
    if state == "cancelled":
        bus.handle(c.CancelTicket(ADMIN, tid))
    else:
        call(bus, 1)
        if state in ("serving", "done"):
            bus.handle(c.StartService(ADMIN, tid))
        if state == "done":
            bus.handle(c.FinishService(ADMIN, tid))
        if state == "missed":
            bus.handle(c.MarkNoShow(ADMIN, tid))
    assert status(store, tid).value == state
    before = snapshot(store)
    batches = len(publisher.batches)
    with pytest.raises(IllegalTransition):
        bus.handle(c.CancelTicket(ADMIN, tid))
    assert snapshot(store) == before
    assert len(publisher.batches) == batches


# ---------------------------------------------------------------- who may do what


def test_staff_bound_to_window_1_cannot_call_at_window_2(bus: MessageBus, store: FakeStore) -> None:
    open_windows(bus, 2)
    issue(bus, "A")
    before = snapshot(store)
    with pytest.raises(Forbidden):
        call(bus, 2, actor=STAFF_1)
    with pytest.raises(Forbidden):
        bus.handle(c.OpenWindow(STAFF_1, HALL, 2))
    assert snapshot(store) == before


def test_staff_bound_to_window_1_cannot_move_a_ticket_held_by_window_2(
    bus: MessageBus, store: FakeStore
) -> None:
    open_windows(bus, 2)
    ticket = issue(bus, "A")
    call(bus, 2)
    before = snapshot(store)
    for cmd in (
        c.StartService(STAFF_1, ticket["id"]),
        c.RecallTicket(STAFF_1, ticket["id"]),
        c.MarkNoShow(STAFF_1, ticket["id"]),
        c.TransferTicket(STAFF_1, ticket["id"], category="B"),
    ):
        with pytest.raises(Forbidden):
            bus.handle(cmd)
    assert snapshot(store) == before


def test_staff_bound_to_window_1_runs_their_own_window(bus: MessageBus, store: FakeStore) -> None:
    open_windows(bus, 1, actor=STAFF_1)
    assert window(store, 1).staff == STAFF_1.name
    ticket = issue(bus, "A")
    called = call(bus, 1, actor=STAFF_1)
    assert called is not None and called["id"] == ticket["id"]
    bus.handle(c.StartService(STAFF_1, ticket["id"]))
    assert bus.handle(c.FinishService(STAFF_1, ticket["id"]))["status"] == "done"


def test_unbound_staff_open_any_window_of_their_hall_and_then_operate_it(
    bus: MessageBus, store: FakeStore
) -> None:
    opened = bus.handle(c.OpenWindow(FLOATER, HALL, 3))
    assert opened["status"] == "open" and opened["staff"] == FLOATER.name
    ticket = issue(bus, "B")
    called = call(bus, 3, actor=FLOATER)
    assert called is not None and called["id"] == ticket["id"]
    bus.handle(c.RecallTicket(FLOATER, ticket["id"]))
    bus.handle(c.StartService(FLOATER, ticket["id"]))
    bus.handle(c.FinishService(FLOATER, ticket["id"], outcome="consulted"))
    assert status(store, ticket["id"]) is TicketStatus.DONE
    # Another unbound colleague has not signed in there and may not call at it.
    issue(bus, "B")
    with pytest.raises(Forbidden):
        call(bus, 3, actor=FLOATER_2)
    closed = bus.handle(c.CloseWindow(FLOATER, HALL, 3))
    assert closed["status"] == "closed" and closed["staff"] is None


def test_unbound_staff_cannot_operate_a_window_they_did_not_open(bus: MessageBus) -> None:
    open_windows(bus, 1)
    issue(bus, "A")
    with pytest.raises(Forbidden):
        call(bus, 1, actor=FLOATER)
    with pytest.raises(Forbidden):
        bus.handle(c.PauseWindow(FLOATER, HALL, 1, reason="午休"))


def test_the_hall_manager_runs_every_window(bus: MessageBus) -> None:
    open_windows(bus, 3, actor=MANAGER)
    ticket = issue(bus, "B")
    called = call(bus, 3, actor=MANAGER)
    assert called is not None and called["id"] == ticket["id"]
    bus.handle(c.MarkNoShow(MANAGER, ticket["id"]))
    assert bus.handle(c.RequeueTicket(MANAGER, ticket["id"]))["status"] == "waiting"


def test_a_manager_of_another_hall_is_refused_everywhere_here(bus: MessageBus, store: FakeStore) -> None:
    open_windows(bus, 1)
    ticket = issue(bus, "A")
    before = snapshot(store)
    with pytest.raises(Forbidden):
        bus.handle(c.OpenWindow(OTHER_MANAGER, HALL, 2))
    with pytest.raises(Forbidden):
        bus.handle(c.CloseWindow(OTHER_MANAGER, HALL, 1))
    with pytest.raises(Forbidden):
        call(bus, 1, actor=OTHER_MANAGER)
    with pytest.raises(Forbidden):
        issue(bus, "A", actor=OTHER_MANAGER, channel="counter")
    for cmd in (
        c.CancelTicket(OTHER_MANAGER, ticket["id"]),
        c.TransferTicket(OTHER_MANAGER, ticket["id"], window=2),
    ):
        with pytest.raises(NotFound):
            bus.handle(cmd)
    assert snapshot(store) == before


@pytest.mark.parametrize("device", [KIOSK, BOARD], ids=["kiosk", "board"])
def test_devices_cannot_call_open_or_move_tickets(bus: MessageBus, store: FakeStore, device: Actor) -> None:
    open_windows(bus, 1)
    ticket = issue(bus, "A")
    before = snapshot(store)
    with pytest.raises(Forbidden):
        call(bus, 1, actor=device)
    with pytest.raises(Forbidden):
        bus.handle(c.OpenWindow(device, HALL, 2))
    with pytest.raises(Forbidden):
        bus.handle(c.CancelTicket(device, ticket["id"]))
    assert snapshot(store) == before


def test_an_unknown_ticket_is_not_found(bus: MessageBus) -> None:
    with pytest.raises(NotFound):
        bus.handle(c.StartService(ADMIN, "no-such-ticket"))


# ---------------------------------------------------------------- windows


def test_opening_an_open_window_is_a_no_op_without_a_second_event(
    bus: MessageBus, store: FakeStore, publisher: RecordingPublisher
) -> None:
    first = bus.handle(c.OpenWindow(ADMIN, HALL, 1))
    again = bus.handle(c.OpenWindow(ADMIN, HALL, 1))
    assert first == again
    assert first["status"] == "open"
    assert store.event_types() == ["window.opened"]
    assert len(publisher.batches) == 1
    assert window(store, 1).version == 1


def test_a_window_goes_open_paused_open_closed_with_one_event_each(bus: MessageBus, store: FakeStore) -> None:
    bus.handle(c.OpenWindow(ADMIN, HALL, 1))
    paused = bus.handle(c.PauseWindow(ADMIN, HALL, 1, reason="临时离开"))
    assert paused["status"] == "paused" and paused["pause_reason"] == "临时离开"
    bus.handle(c.ResumeWindow(ADMIN, HALL, 1))
    bus.handle(c.ResumeWindow(ADMIN, HALL, 1))  # no-op
    bus.handle(c.CloseWindow(ADMIN, HALL, 1))
    bus.handle(c.CloseWindow(ADMIN, HALL, 1))  # no-op
    assert store.event_types() == ["window.opened", "window.paused", "window.resumed", "window.closed"]
    assert window(store, 1).status is WindowStatus.CLOSED


def test_closing_a_window_that_holds_a_ticket_is_window_busy(bus: MessageBus, store: FakeStore) -> None:
    open_windows(bus, 1)
    issue(bus, "A")
    call(bus, 1)
    with pytest.raises(WindowBusy):
        bus.handle(c.CloseWindow(ADMIN, HALL, 1))
    assert window(store, 1).status is WindowStatus.OPEN


# ---------------------------------------------------------------- events


def _seqs(envelopes: Sequence[dict[str, Any]]) -> list[int]:
    return [e["seq"] for e in envelopes]


def test_events_have_consecutive_seq_from_1_and_are_published_in_that_order(
    bus: MessageBus, store: FakeStore, publisher: RecordingPublisher, clock: FakeClock
) -> None:
    open_windows(bus, 1, 3)
    a = issue(bus, "A")
    issue(bus, "B")
    call(bus, 1)
    bus.handle(c.RecallTicket(ADMIN, a["id"]))
    bus.handle(c.StartService(ADMIN, a["id"]))
    clock.advance(100)
    bus.handle(c.FinishService(ADMIN, a["id"]))
    assert _seqs(store.events) == list(range(1, 9))
    assert store.event_types() == [
        "window.opened",
        "window.opened",
        "ticket.issued",
        "ticket.issued",
        "ticket.called",
        "ticket.recalled",
        "ticket.started",
        "ticket.finished",
    ]
    assert publisher.envelopes == store.events
    assert all(len(batch) == 1 for batch in publisher.batches)
    for e in store.events:
        assert set(e) == {"id", "seq", "type", "hall", "occurred_at", "data"}
        assert e["hall"] == HALL and e["occurred_at"].endswith("+08:00")
    assert len({e["id"] for e in store.events}) == len(store.events)


def test_events_are_published_only_after_they_are_committed(store: FakeStore, clock: FakeClock) -> None:
    seen_at_publish: list[tuple[list[int], list[int]]] = []

    class CheckingPublisher:
        def publish(self, envelopes: Sequence[dict[str, Any]]) -> None:
            seen_at_publish.append((_seqs(envelopes), _seqs(store.events)))

    bus = make_bus(store, clock, publisher=CheckingPublisher())
    open_windows(bus, 1)
    issue(bus, "A")
    call(bus, 1)
    assert [published for published, _ in seen_at_publish] == [[1], [2], [3]]
    for published, stored in seen_at_publish:
        assert set(published) <= set(stored)


def test_a_failing_publisher_does_not_undo_the_commit(store: FakeStore, clock: FakeClock) -> None:
    class BrokenPublisher:
        def publish(self, envelopes: Sequence[dict[str, Any]]) -> None:
            raise ConnectionError("socket.io down")

    bus = make_bus(store, clock, publisher=BrokenPublisher())
    open_windows(bus, 1)
    body = issue(bus, "A")
    assert body["id"] in store.tickets
    assert store.event_types() == ["window.opened", "ticket.issued"]


def test_nothing_is_stored_or_published_when_a_handler_raises(
    bus: MessageBus, store: FakeStore, publisher: RecordingPublisher
) -> None:
    open_windows(bus, 1)
    waiting = issue(bus, "A")
    before = snapshot(store)
    batches = len(publisher.batches)
    failing: list[c.Command] = [
        c.IssueTicket(KIOSK, HALL, "kiosk", category="B"),  # no open window
        c.CallNext(ADMIN, HALL, 2),  # closed
        c.StartService(ADMIN, waiting["id"]),  # illegal from waiting
        c.TransferTicket(ADMIN, waiting["id"], window=3),  # window 3 does not serve A
        c.PauseWindow(ADMIN, HALL, 1, reason="  "),  # no reason
        c.ResumeWindow(ADMIN, HALL, 3),  # closed
    ]
    for cmd in failing:
        with pytest.raises(DomainError):
            bus.handle(cmd)
    assert snapshot(store) == before
    assert len(publisher.batches) == batches


def test_event_seq_continues_after_a_failed_command(bus: MessageBus, store: FakeStore) -> None:
    open_windows(bus, 1)
    issue(bus, "A")
    call(bus, 1)
    with pytest.raises(WindowBusy):
        call(bus, 1)
    issue(bus, "A")
    assert _seqs(store.events) == list(range(1, len(store.events) + 1))


# ---------------------------------------------------------------- position and estimate


def test_position_and_estimate_of_issued_tickets(bus: MessageBus, clock: FakeClock) -> None:
    open_windows(bus, 1, 2)  # both serve A; window 4 (F, A) stays closed
    bodies = []
    for _ in range(3):
        bodies.append(issue(bus, "A"))
        clock.advance(5)
    assert [b["position"] for b in bodies] == [1, 2, 3]
    # people ahead / open windows * default 300 s
    assert [b["estimated_wait_s"] for b in bodies] == [0, 150, 300]


def test_the_estimate_counts_only_open_windows_of_the_category(bus: MessageBus, clock: FakeClock) -> None:
    open_windows(bus, 2, 3)
    bus.handle(c.PauseWindow(ADMIN, HALL, 3, reason="会议"))
    issue(bus, "B")
    clock.advance(1)
    second = issue(bus, "B")
    # Window 3 is paused: only window 2 counts, so one person ahead is a whole 300 s.
    assert second["position"] == 2 and second["estimated_wait_s"] == 300


def test_the_estimate_uses_the_categorys_recent_service_times(bus: MessageBus, clock: FakeClock) -> None:
    open_windows(bus, 1)
    issue(bus, "A")
    serve(bus, clock, 1, seconds=120)
    issue(bus, "A")
    serve(bus, clock, 1, seconds=180)
    issue(bus, "A")
    clock.advance(1)
    waiting = issue(bus, "A")
    assert waiting["position"] == 2
    assert waiting["estimated_wait_s"] == 150


def test_priority_tickets_are_told_a_place_ahead_of_normal_ones(bus: MessageBus) -> None:
    open_windows(bus, 1)
    issue(bus, "A")
    issue(bus, "A")
    prio = issue(bus, "A", priority_group="elderly")
    assert prio["position"] == 1
    assert prio["priority_group"] == "elderly"


def test_an_unknown_priority_group_is_invalid_input(bus: MessageBus, store: FakeStore) -> None:
    open_windows(bus, 1)
    with pytest.raises(InvalidInput):
        issue(bus, "A", priority_group="vip")
    assert store.tickets == {}


def test_tickets_issued_in_the_same_instant_are_called_in_number_order(
    bus: MessageBus, clock: FakeClock
) -> None:
    open_windows(bus, 1)
    numbers = [issue(bus, "A")["number"] for _ in range(10)]  # the clock does not move
    assert call_order(bus, clock, 1) == numbers


# ---------------------------------------------------------------- closing the day


def test_close_day_cancels_yesterdays_open_tickets_but_not_one_being_served(
    bus: MessageBus, store: FakeStore, clock: FakeClock
) -> None:
    open_windows(bus, 1, 2)
    served = issue(bus, "A")
    waiting = issue(bus, "A")
    call(bus, 1)
    bus.handle(c.StartService(ADMIN, served["id"]))
    clock.advance(24 * 3600)
    with pytest.raises(Forbidden):
        bus.handle(c.CloseDay(STAFF_1, HALL))
    assert bus.handle(c.CloseDay(MANAGER, HALL)) == 1
    assert bus.handle(c.CloseDay(MANAGER, HALL)) == 0  # nothing left, no commit, no event
    assert store.tickets[waiting["id"]].status.value == "cancelled"
    assert store.tickets[served["id"]].status.value == "serving"
    last = store.events[-1]
    assert last["type"] == "ticket.cancelled" and last["data"]["reason"] == "day_closed"


def test_a_ticket_left_from_yesterday_is_not_called_today(bus: MessageBus, clock: FakeClock) -> None:
    open_windows(bus, 1)
    issue(bus, "A")
    clock.advance(24 * 3600)
    assert call(bus, 1) is None
    today = issue(bus, "A")
    assert today["number"] == "A001" and today["position"] == 1
    assert call(bus, 1)["id"] == today["id"]


# ---------------------------------------------------------------- priority grants (绿色通道)


def test_elderly_priority_is_checked_against_the_id_and_recorded_with_its_reason(
    store: FakeStore, clock: FakeClock
) -> None:
    bus = make_bus(store, clock)
    open_windows(bus, 1)
    born_1940, born_2000 = "530102" + "19400101" + "123", "530102" + "20000101" + "123"
    old_id = born_1940 + resident_id_check_char(born_1940)
    young_id = born_2000 + resident_id_check_char(born_2000)
    t = bus.handle(c.IssueTicket(KIOSK, HALL, "kiosk", category="A", priority_group="elderly",
                                 applicant=c.Applicant("resident_id", old_id)))
    stored = store.tickets[t["id"]]
    assert stored.priority_group == "elderly" and stored.priority_granted_by == KIOSK.name
    assert "86" in (stored.priority_reason or "")
    assert "priority_reason" not in json.dumps(store.events[-1])  # audit only, never published
    with pytest.raises(NotEligible):
        bus.handle(c.IssueTicket(KIOSK, HALL, "kiosk", category="B", priority_group="elderly",
                                 applicant=c.Applicant("resident_id", young_id)))


def test_who_may_grant_each_priority_group_is_the_halls_rule(clock: FakeClock) -> None:
    rules = Rules(priority_grants={"elderly": ("kiosk", "staff"), "disabled": ("staff",), "military": (),
                                   "pregnant": ("staff",)})
    store = FakeStore.with_hall(make_hall_config(rules=rules))
    bus = make_bus(store, clock)
    open_windows(bus, 1)
    with pytest.raises(Forbidden):
        bus.handle(c.IssueTicket(KIOSK, HALL, "kiosk", category="A", priority_group="disabled"))
    with pytest.raises(Forbidden):
        bus.handle(c.IssueTicket(ADMIN, HALL, "counter", category="A", priority_group="military"))
    t = bus.handle(c.IssueTicket(FLOATER, HALL, "counter", category="A", priority_group="disabled",
                                 priority_reason="残疾人证已核验"))
    assert store.tickets[t["id"]].priority_reason == "残疾人证已核验"


# ---------------------------------------------------------------- matters and trips (最多跑一次)


def test_a_second_visit_for_a_matter_is_its_second_trip_until_it_is_settled(
    store: FakeStore, clock: FakeClock
) -> None:
    bus = make_bus(store, clock)
    who = c.Applicant("resident_id", id_number())

    def visit(outcome: str) -> dict[str, Any]:
        bus.handle(c.OpenWindow(ADMIN, HALL, 1))
        t = bus.handle(c.IssueTicket(KIOSK, HALL, "kiosk", category="A", applicant=who))
        bus.handle(c.CallNext(ADMIN, HALL, 1))
        bus.handle(c.StartService(ADMIN, t["id"]))
        bus.handle(c.FinishService(ADMIN, t["id"], outcome=outcome))
        return t

    first = visit("needs_materials")  # 补正: come back with the missing papers
    assert first["matter"]["trip"] == 1
    same_day = visit("needs_materials")
    assert same_day["matter"] == first["matter"]  # two tickets in one day are one trip
    clock.advance(86400)
    second = visit("accepted")
    assert second["matter"] == {"id": first["matter"]["id"], "trip": 2}
    matter = store.matters[first["matter"]["id"]]
    assert (matter.trips, matter.status.value) == (2, "closed")
    clock.advance(86400)
    fresh = visit("completed")
    assert fresh["matter"]["id"] != first["matter"]["id"] and fresh["matter"]["trip"] == 1
    anonymous = bus.handle(c.IssueTicket(KIOSK, HALL, "kiosk", category="A"))
    assert anonymous["matter"] is None


def test_the_one_open_ticket_rule_can_be_turned_off(clock: FakeClock) -> None:
    store = FakeStore.with_hall(make_hall_config(rules=Rules(one_open_ticket_per_category=False)))
    bus = make_bus(store, clock)
    open_windows(bus, 1)
    who = c.Applicant("resident_id", id_number())
    numbers = [bus.handle(c.IssueTicket(KIOSK, HALL, "kiosk", category="A", applicant=who))["number"]
               for _ in range(2)]
    assert numbers == ["A001", "A002"]
