"""Test doubles for the service layer: a settable clock, a recording publisher, and an
in-memory unit of work whose repositories mirror the SQL adapters' semantics.

The fakes are injected (`make_bus(store, clock)`), never patched in by import path.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hall_server.adapters.vault import AesGcmVault
from hall_server.domain.appointments import Appointment, AppointmentStatus
from hall_server.domain.audit import AuditEntry, StoredApplicant
from hall_server.domain.dispatch import Candidate, QueueCounts, count_queue, position_in_queue
from hall_server.domain.evaluations import Evaluation
from hall_server.domain.events import Event
from hall_server.domain.hall import (
    Category,
    DayHours,
    HallConfig,
    HallLevel,
    ItemType,
    Material,
    OpeningHours,
    Rules,
    ServiceItem,
    TimeLimit,
    WindowConfig,
)
from hall_server.domain.identity import resident_id_check_char
from hall_server.domain.matters import Matter, MatterStatus
from hall_server.domain.numbering import parse_number
from hall_server.domain.tickets import Ticket, TicketStatus
from hall_server.domain.windows import Window, WindowStatus
from hall_server.protocol import EVENT_TYPES, envelope
from hall_server.services.bus import MessageBus
from hall_server.services.handlers import HandlerContext
from hall_server.services.ports import LivePublisher
from hall_server.services.presenters import jsonable
from hall_server.services.unit_of_work import DuplicateKey, StoredResponse, UnitOfWork

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Wednesday 2026-03-04, 10:00 in Kunming/Beijing time: inside the test hall's hours.
DEFAULT_NOW = datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI).astimezone(UTC)
APPLICANT_SECRET = b"test-secret-0123456789"
STATUS_URL_BASE = "http://hall.test"


# ---------------------------------------------------------------- ports


class FakeClock:
    """A Clock whose instant tests set and advance; always aware, always UTC."""

    def __init__(self, now: datetime = DEFAULT_NOW) -> None:
        self._now = _utc(now)

    @property
    def current(self) -> datetime:
        """The instant `now()` returns; assign an aware datetime to move the clock."""
        return self._now

    @current.setter
    def current(self, instant: datetime) -> None:
        self._now = _utc(instant)

    def now(self) -> datetime:
        """The current (fake) instant, aware, in UTC."""
        return self._now

    def set(self, instant: datetime) -> None:
        """Jump to an aware instant (any time zone; stored as UTC)."""
        self._now = _utc(instant)

    def advance(self, seconds: float) -> datetime:
        """Move forward by `seconds`; return the new instant."""
        self._now += timedelta(seconds=seconds)
        return self._now


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("FakeClock needs an aware datetime")
    return instant.astimezone(UTC)


class RecordingPublisher:
    """A LivePublisher that keeps every batch of envelopes it was given."""

    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []

    def publish(self, envelopes: Sequence[dict[str, Any]]) -> None:
        """Remember the batch (a list copy; the envelopes themselves are kept as given)."""
        self.batches.append(list(envelopes))

    @property
    def envelopes(self) -> list[dict[str, Any]]:
        """Every envelope published so far, in publishing order."""
        return [e for batch in self.batches for e in batch]


# ---------------------------------------------------------------- the in-memory database


@dataclass
class FakeStore:
    """What a database would hold, shared by every FakeUnitOfWork made over it."""

    halls: dict[str, HallConfig] = field(default_factory=dict)
    tickets: dict[str, Ticket] = field(default_factory=dict)
    windows: dict[tuple[str, int], Window] = field(default_factory=dict)
    counters: dict[tuple[str, str, date], int] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], StoredResponse] = field(default_factory=dict)
    evaluations: dict[str, Evaluation] = field(default_factory=dict)
    appointments: dict[str, Appointment] = field(default_factory=dict)
    applicants: dict[str, StoredApplicant] = field(default_factory=dict)
    matters: dict[str, Matter] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    places: dict[tuple[str, str, datetime], int] = field(default_factory=dict)
    hall_seq: dict[str, int] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    commits: int = 0

    @classmethod
    def with_hall(cls, cfg: HallConfig | None = None, now: datetime | None = None) -> FakeStore:
        """A store holding one hall (default: `make_hall_config()`), all windows closed."""
        store = cls()
        store.add_hall(cfg or make_hall_config(), now)
        return store

    def add_hall(self, cfg: HallConfig, now: datetime | None = None) -> None:
        """Load a hall as `onedoor init` does: its config, closed windows, seq row at 0."""
        self.halls[cfg.code] = cfg
        self.hall_seq.setdefault(cfg.code, 0)
        for wc in cfg.windows:
            self.windows.setdefault(
                (cfg.code, wc.number),
                Window(hall=cfg.code, number=wc.number, name=wc.name, categories=wc.categories,
                       status=WindowStatus.CLOSED, status_since=now, version=0),
            )

    def events_of(self, hall: str) -> list[dict[str, Any]]:
        """The hall's stored event envelopes in seq order."""
        return sorted((e for e in self.events if e["hall"] == hall), key=lambda e: e["seq"])

    def event_types(self, hall: str | None = None) -> list[str]:
        """Wire types of the stored events (of one hall, or all), in store order."""
        return [e["type"] for e in self.events if hall is None or e["hall"] == hall]


class _Changes:
    """A unit of work's uncommitted rows, laid over the store; they reach it only at commit.

    Reads see this transaction's own changes first and otherwise the rows committed so far
    (like READ COMMITTED), and a conditional update compares with the committed version of
    a row this transaction has not written yet. So a test can let another unit of work
    commit in the middle of this one and watch the handler's conflict handling.
    """

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.tickets: dict[str, Ticket] = {}
        self.windows: dict[tuple[str, int], Window] = {}
        self.counters: dict[tuple[str, str, date], int] = {}
        self.idempotency: dict[tuple[str, str], StoredResponse] = {}
        self.evaluations: dict[str, Evaluation] = {}
        self.appointments: dict[str, Appointment] = {}
        self.places: dict[tuple[str, str, datetime], int] = {}

    def ticket(self, ticket_id: str) -> Ticket | None:
        """The row as this transaction sees it (not a copy: callers copy)."""
        return self.tickets.get(ticket_id) or self.store.tickets.get(ticket_id)

    def all_tickets(self) -> list[Ticket]:
        """Every ticket as this transaction sees it (not copies)."""
        return list({**self.store.tickets, **self.tickets}.values())

    def window(self, key: tuple[str, int]) -> Window | None:
        """The row as this transaction sees it (not a copy)."""
        return self.windows.get(key) or self.store.windows.get(key)

    def all_windows(self) -> dict[tuple[str, int], Window]:
        """Every window as this transaction sees it (not copies)."""
        return {**self.store.windows, **self.windows}

    def clear(self) -> None:
        """Forget every uncommitted change (ROLLBACK)."""
        self.tickets, self.windows, self.counters, self.idempotency = {}, {}, {}, {}
        self.evaluations, self.appointments, self.places = {}, {}, {}

    def apply(self) -> None:
        """Write the changes to the store as copies (COMMIT), then forget them."""
        self.store.tickets.update({k: t.copy() for k, t in self.tickets.items()})
        self.store.windows.update({k: replace(w) for k, w in self.windows.items()})
        self.store.counters.update(self.counters)
        self.store.idempotency.update(self.idempotency)
        self.store.evaluations.update({k: replace(e) for k, e in self.evaluations.items()})
        self.store.appointments.update({k: replace(a) for k, a in self.appointments.items()})
        self.store.places.update(self.places)
        self.clear()


# ---------------------------------------------------------------- repositories


class FakeHallRepository:
    """Hall configurations held by the store."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store

    def config(self, hall: str) -> HallConfig | None:
        """The hall's configuration, or None."""
        return self._store.halls.get(hall)


def _candidate(t: Ticket) -> Candidate:
    return Candidate(t.id, t.category, t.order_at, t.priority_group is not None, t.appointment, t.target_window,
                     parse_number(t.number)[1])


class FakeTicketRepository:
    """Tickets in memory; updates are conditional on the version read, as in SQL."""

    def __init__(self, changes: _Changes) -> None:
        self._c = changes

    def get(self, ticket_id: str) -> Ticket | None:
        """A fresh copy of one ticket (callers mutate it, then `update`)."""
        t = self._c.ticket(ticket_id)
        return t.copy() if t else None

    def by_token(self, token: str) -> Ticket | None:
        """One ticket by its status-page token."""
        return next((t.copy() for t in self._c.all_tickets() if t.token == token), None)

    def add(self, ticket: Ticket) -> None:
        """Insert a new ticket (the primary key must be new)."""
        if self._c.ticket(ticket.id) is not None:
            raise KeyError(f"duplicate ticket id {ticket.id}")
        self._c.tickets[ticket.id] = ticket.copy()

    def update(self, ticket: Ticket, expected_version: int) -> bool:
        """Write the ticket if its current version is still `expected_version`."""
        current = self._c.ticket(ticket.id)
        if current is None or current.version != expected_version:
            return False
        self._c.tickets[ticket.id] = ticket.copy()
        return True

    def _waiting(self, hall: str, since: datetime) -> list[Ticket]:
        return [t for t in self._c.all_tickets()
                if t.hall == hall and t.status is TicketStatus.WAITING and t.order_at >= since]

    def waiting_candidates(
        self, hall: str, categories: Sequence[str], window: int, since: datetime
    ) -> list[Candidate]:
        """Today's waiting tickets of these categories (not targeted) plus those transferred to `window`."""
        return [
            _candidate(t)
            for t in self._waiting(hall, since)
            if (t.category in categories and t.target_window is None) or t.target_window == window
        ]

    def queue_counts(self, hall: str, category: str, ticket: Candidate, since: datetime) -> QueueCounts:
        """Counts of the category's waiting tickets of today by kind, in total and ahead of `ticket`."""
        return count_queue(replace(ticket, category=category, target_window=None),
                           [_candidate(t) for t in self._waiting(hall, since)])

    def targeted_ahead(self, hall: str, window: int, ticket: Candidate, since: datetime) -> int:
        """Today's tickets transferred to `window` that wait ahead of `ticket`."""
        return position_in_queue(replace(ticket, target_window=window),
                                 [_candidate(t) for t in self._waiting(hall, since)]) - 1

    def leftovers(self, hall: str, before: date, limit: int) -> list[Ticket]:
        """Waiting, called or missed tickets of business days before `before`, oldest first."""
        open_states = (TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.MISSED)
        found = sorted((t for t in self._c.all_tickets()
                        if t.hall == hall and t.business_date < before.isoformat() and t.status in open_states),
                       key=lambda t: t.issued_at)
        return [t.copy() for t in found[:limit]]

    def recent_priority_flags(self, hall: str, category: str, limit: int) -> list[bool]:
        """Priority flags of the category's latest calls, newest first (appointments excluded)."""
        called = [
            (t.called_at, t.priority_group is not None)
            for t in self._c.all_tickets()
            if t.hall == hall and t.category == category and t.called_at is not None and not t.appointment
        ]
        called.sort(key=lambda pair: pair[0], reverse=True)
        return [flag for _, flag in called[:limit]]

    def open_ticket_of(self, hall: str, applicant_key: str, category: str, business_date: date) -> Ticket | None:
        """The person's waiting, called or serving ticket of a category that day, if any."""
        open_states = (TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING)
        return next((t.copy() for t in self._c.all_tickets()
                     if t.hall == hall and t.applicant_key == applicant_key and t.category == category
                     and t.business_date == business_date.isoformat() and t.status in open_states), None)

    def issued_count(self, hall: str, applicant_key: str, business_date: date) -> int:
        """Tickets the person got in the hall that business day, whatever their state."""
        day = business_date.isoformat()
        return sum(
            1 for t in self._c.all_tickets()
            if t.hall == hall and t.applicant_key == applicant_key and t.business_date == day
        )

    def recent_service_durations(self, hall: str, category: str, limit: int) -> list[float]:
        """Durations (s) of the category's latest finished services, newest first."""
        done = [
            (t.finished_at, (t.finished_at - t.started_at).total_seconds())
            for t in self._c.all_tickets()
            if t.hall == hall and t.category == category and t.status is TicketStatus.DONE
            and t.started_at is not None and t.finished_at is not None
        ]
        done.sort(key=lambda pair: pair[0], reverse=True)
        return [seconds for _, seconds in done[:limit]]


class FakeWindowRepository:
    """Windows' live state in memory; updates conditional on the version read."""

    def __init__(self, changes: _Changes) -> None:
        self._c = changes

    def get(self, hall: str, number: int) -> Window | None:
        """A fresh copy of one window."""
        w = self._c.window((hall, number))
        return replace(w) if w else None

    def in_hall(self, hall: str) -> list[Window]:
        """Copies of all windows of a hall, by number."""
        return [replace(w) for (h, _), w in sorted(self._c.all_windows().items()) if h == hall]

    def statuses_serving(self, hall: str, category: str) -> list[WindowStatus]:
        """The status of every window serving the category."""
        return [w.status for w in self.in_hall(hall) if category in w.categories]

    def update(self, window: Window, expected_version: int) -> bool:
        """Write the window if its current version is still `expected_version`."""
        key = (window.hall, window.number)
        current = self._c.window(key)
        if current is None or current.version != expected_version:
            return False
        # As in SQL, only live state is written; name and categories come from the config.
        self._c.windows[key] = replace(
            current,
            status=window.status,
            pause_reason=window.pause_reason,
            staff=window.staff,
            current_ticket=window.current_ticket,
            status_since=window.status_since,
            version=window.version,
        )
        return True


class FakeCounterRepository:
    """Daily ticket sequences per (hall, prefix, business day)."""

    def __init__(self, changes: _Changes) -> None:
        self._c = changes

    def next_seq(self, hall: str, prefix: str, business_date: date) -> int:
        """Take the next sequence number of a prefix on a day (1 for the day's first)."""
        key = (hall, prefix, business_date)
        seq = self._c.counters.get(key, self._c.store.counters.get(key, 0)) + 1
        self._c.counters[key] = seq
        return seq


class FakeEvaluationRepository:
    """Evaluations in memory: one per ticket, updates conditional on the version read."""

    def __init__(self, changes: _Changes) -> None:
        self._c = changes

    def _all(self) -> dict[str, Evaluation]:
        return {**self._c.store.evaluations, **self._c.evaluations}

    def get(self, evaluation_id: str) -> Evaluation | None:
        """A copy of one evaluation."""
        e = self._all().get(evaluation_id)
        return replace(e) if e else None

    def for_ticket(self, ticket_id: str) -> Evaluation | None:
        """A copy of the ticket's evaluation, if any."""
        return next((replace(e) for e in self._all().values() if e.ticket_id == ticket_id), None)

    def add(self, evaluation: Evaluation) -> None:
        """Insert; DuplicateKey when the ticket has one already (the unique key)."""
        if self.for_ticket(evaluation.ticket_id) is not None:
            raise DuplicateKey(evaluation.ticket_id)
        self._c.evaluations[evaluation.id] = replace(evaluation)

    def update(self, evaluation: Evaluation, expected_version: int) -> bool:
        """Write if the version is still `expected_version`."""
        current = self._all().get(evaluation.id)
        if current is None or current.version != expected_version:
            return False
        self._c.evaluations[evaluation.id] = replace(evaluation)
        return True

    def unrated(self, hall: str, finished_before: datetime, limit: int) -> list[Ticket]:
        """Done tickets finished before the instant without an evaluation, oldest first."""
        rated = {e.ticket_id for e in self._all().values()}
        found = sorted((t for t in self._c.all_tickets()
                        if t.hall == hall and t.status is TicketStatus.DONE and t.id not in rated
                        and t.finished_at is not None and t.finished_at < finished_before),
                       key=lambda t: t.finished_at or finished_before)
        return [t.copy() for t in found[:limit]]


class FakeAppointmentRepository:
    """Bookings and slot places in memory, with the SQL adapter's semantics."""

    def __init__(self, changes: _Changes) -> None:
        self._c = changes

    def _all(self) -> dict[str, Appointment]:
        return {**self._c.store.appointments, **self._c.appointments}

    def get(self, appointment_id: str) -> Appointment | None:
        """A copy of one booking."""
        a = self._all().get(appointment_id)
        return replace(a) if a else None

    def by_code(self, code: str) -> Appointment | None:
        """A copy of the booking with this code."""
        return next((replace(a) for a in self._all().values() if a.code == code), None)

    def of_person(self, hall: str, applicant_key: str, since: datetime, until: datetime) -> list[Appointment]:
        """A person's bookings with slots in [since, until), by slot."""
        found = [a for a in self._all().values()
                 if a.hall == hall and a.applicant_key == applicant_key and since <= a.slot_start < until]
        return [replace(a) for a in sorted(found, key=lambda a: a.slot_start)]

    def add(self, appointment: Appointment) -> None:
        """Insert a booking."""
        self._c.appointments[appointment.id] = replace(appointment)

    def update(self, appointment: Appointment, expected_version: int) -> bool:
        """Write if the version is still `expected_version`."""
        current = self._all().get(appointment.id)
        if current is None or current.version != expected_version:
            return False
        self._c.appointments[appointment.id] = replace(appointment)
        return True

    def _taken(self, key: tuple[str, str, datetime]) -> int:
        return self._c.places.get(key, self._c.store.places.get(key, 0))

    def take_place(self, hall: str, category: str, slot_start: datetime, capacity: int) -> bool:
        """Take a place if fewer than `capacity` are taken."""
        key = (hall, category, slot_start)
        if self._taken(key) >= capacity:
            return False
        self._c.places[key] = self._taken(key) + 1
        return True

    def free_place(self, hall: str, category: str, slot_start: datetime) -> None:
        """Give a place back."""
        key = (hall, category, slot_start)
        self._c.places[key] = max(0, self._taken(key) - 1)

    def places_taken(self, hall: str, category: str, since: datetime, until: datetime) -> dict[datetime, int]:
        """Places taken per slot start in [since, until)."""
        keys = {*self._c.store.places, *self._c.places}
        return {k[2]: self._taken(k) for k in keys if k[0] == hall and k[1] == category and since <= k[2] < until}

    def no_shows(self, hall: str, applicant_key: str, since: datetime) -> list[datetime]:
        """Slot starts of the person's no-shows since the instant."""
        return [a.slot_start for a in self._all().values()
                if a.hall == hall and a.applicant_key == applicant_key and a.status is AppointmentStatus.NO_SHOW
                and a.slot_start >= since]

    def overdue(self, hall: str, before: datetime, limit: int) -> list[Appointment]:
        """Bookings still waiting for a check-in whose slot ended before the instant."""
        found = sorted((a for a in self._all().values()
                        if a.hall == hall and a.status is AppointmentStatus.BOOKED and a.slot_end < before),
                       key=lambda a: a.slot_end)
        return [replace(a) for a in found[:limit]]


class FakeApplicantRepository:
    """People in memory (written straight to the store: remembering is idempotent)."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store

    def remember(self, key: str, id_type: str, sealed: str, masked: str, now: datetime,
                 name_sealed: str | None = None, name_masked: str | None = None) -> None:
        """Store a person the first time they are seen (a newly read name replaces the old)."""
        old = self._store.applicants.get(key)
        if old is None or name_sealed is not None:
            self._store.applicants[key] = StoredApplicant(key, id_type, old.sealed if old else sealed,
                                                          old.masked if old else masked, name_sealed, name_masked)

    def get(self, key: str) -> StoredApplicant | None:
        """A stored person by keyed hash."""
        return self._store.applicants.get(key)


class FakeMatterRepository:
    """Matters in memory (written to the store at once: tests read them straight from it)."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store

    def open_for(self, hall: str, applicant_key: str, subject: str) -> Matter | None:
        """The person's open matter about a subject."""
        return next((replace(m) for m in self._store.matters.values()
                     if (m.hall, m.applicant_key, m.subject) == (hall, applicant_key, subject)
                     and m.status is MatterStatus.OPEN), None)

    def get(self, matter_id: str) -> Matter | None:
        """One matter by id."""
        m = self._store.matters.get(matter_id)
        return replace(m) if m else None

    def add(self, matter: Matter) -> None:
        """Insert a matter."""
        self._store.matters[matter.id] = replace(matter)

    def update(self, matter: Matter, expected_version: int) -> bool:
        """Write if the version is still `expected_version`."""
        current = self._store.matters.get(matter.id)
        if current is None or current.version != expected_version:
            return False
        self._store.matters[matter.id] = replace(matter)
        return True


class FakeAuditRepository:
    """The audit log in memory; entries reach the store only at commit."""

    def __init__(self) -> None:
        self.pending: list[AuditEntry] = []

    def add(self, entry: AuditEntry) -> None:
        """Append an entry (kept until commit)."""
        self.pending.append(entry)


class FakeIdempotencyRepository:
    """Responses remembered under Idempotency-Key headers."""

    def __init__(self, changes: _Changes) -> None:
        self._c = changes

    def get(self, scope: str, key: str) -> StoredResponse | None:
        """The remembered response (a deep copy), if any."""
        hit = self._c.idempotency.get((scope, key)) or self._c.store.idempotency.get((scope, key))
        return copy.deepcopy(hit) if hit else None

    def put(self, scope: str, key: str, response: StoredResponse) -> None:
        """Remember a response; DuplicateKey if this or a committed transaction has the key."""
        if (scope, key) in self._c.idempotency or (scope, key) in self._c.store.idempotency:
            raise DuplicateKey(key)
        self._c.idempotency[(scope, key)] = copy.deepcopy(response)


# ---------------------------------------------------------------- unit of work


class FakeUnitOfWork(UnitOfWork):
    """An in-memory transaction over a shared FakeStore: changes are copies until commit."""

    def __init__(self, store: FakeStore) -> None:
        super().__init__()
        self.store = store
        self._changes = _Changes(store)
        self.halls = FakeHallRepository(store)
        self.tickets = FakeTicketRepository(self._changes)
        self.windows = FakeWindowRepository(self._changes)
        self.counters = FakeCounterRepository(self._changes)
        self.idempotency = FakeIdempotencyRepository(self._changes)
        self.evaluations = FakeEvaluationRepository(self._changes)
        self.appointments = FakeAppointmentRepository(self._changes)
        self.applicants = FakeApplicantRepository(store)
        self.audit = FakeAuditRepository()
        self.matters = FakeMatterRepository(store)
        self.committed = False
        self.rolled_back = False

    def __enter__(self) -> FakeUnitOfWork:
        super().__enter__()
        self._changes.clear()
        self.committed = False
        self.rolled_back = False
        return self

    def _commit(self, events: Sequence[Event]) -> list[dict[str, Any]]:
        """Number events per hall, store them with the changes, return their envelopes."""
        envelopes: list[dict[str, Any]] = []
        seqs = dict(self.store.hall_seq)
        for e in events:
            if e.hall not in seqs:
                raise LookupError(f"hall {e.hall!r} has no event sequence row")
            seqs[e.hall] += 1
            wire = EVENT_TYPES[type(e).__name__]
            # A JSON round trip, as the events table's JSON column would do (and fail on).
            data = json.loads(json.dumps(jsonable(dict(e.data)), ensure_ascii=False))
            occurred = e.occurred_at.astimezone(self.store.halls[e.hall].tz).isoformat(timespec="seconds")
            envelopes.append(envelope(str(uuid.uuid4()), seqs[e.hall], wire.value, e.hall, occurred, data))
        self._changes.apply()
        self.store.audit.extend(self.audit.pending)
        self.audit.pending = []
        self.store.hall_seq = seqs
        self.store.events.extend(copy.deepcopy(envelopes))
        self.store.commits += 1
        self.committed = True
        return envelopes

    def rollback(self) -> None:
        """Drop uncommitted changes (a no-op after commit, when there are none)."""
        if not self.committed:
            self.rolled_back = True
        self._changes.clear()


# ---------------------------------------------------------------- hall configuration


def _item(code: str, name: str, category: str, item_type: ItemType, **kw: Any) -> ServiceItem:
    base: dict[str, Any] = {
        "code": code,
        "name": name,
        "item_type": item_type,
        "category": category,
        "legal_basis": "《中华人民共和国市场主体登记管理条例》",
        "authority_scope": "县级",
        "time_limit": TimeLimit(legal_days=15, promised_days=3, note="即办件除外"),
        "procedure": ("申请", "受理", "审查", "决定", "送达"),
        "conditions": "符合法定条件的申请人",
        "materials": (
            Material("申请书", originals=1, copies=0),
            Material("身份证明", originals=1, copies=1),
            Material("其他材料", required=False, note="视情况提供"),
        ),
        "forms": ("申请表",),
        "fees": "不收费",
        "result": "准予许可决定书",
        "department": "县政务服务管理局",
        "one_trip": True,
        "appointment": True,
        "online": False,
        "comprehensive_window": True,
        "pinyin": "",
    }
    base.update(kw)
    return ServiceItem(**base)


def make_hall_config(**overrides: Any) -> HallConfig:
    """A small test hall built from the domain dataclasses; `overrides` replace fields."""
    weekday = DayHours(((time(9, 0), time(12, 0)), (time(13, 0), time(17, 30))))
    cfg = HallConfig(
        version=1,
        code="test",
        name="测试县政务服务中心",
        level=HallLevel.COUNTY,
        timezone="Asia/Shanghai",
        region_code="530124",
        categories=(
            Category("A", "企业服务", "A", "Business services"),
            Category("B", "社会事务", "B", "Social affairs"),
            Category("F", "综合出件", "F", "Results pick-up"),
        ),
        windows=(
            WindowConfig(1, "1号窗口", ("A",)),
            WindowConfig(2, "2号窗口", ("A", "B")),
            WindowConfig(3, "3号窗口", ("B",)),
            WindowConfig(4, "4号窗口", ("F", "A")),
        ),
        items=(
            _item("530124-XK-001", "个体工商户设立登记", "A", ItemType.LICENSING, pinyin="gtgshsldj"),
            _item("530124-QR-002", "最低生活保障资格确认", "B", ItemType.CONFIRMATION,
                  legal_basis="《社会救助暂行办法》", result="审核确认结果", pinyin="zdshbzzgqr"),
            _item("530124-GG-003", "办件结果领取", "F", ItemType.PUBLIC_SERVICE,
                  time_limit=TimeLimit(legal_days=1, promised_days=0), procedure=("出件",),
                  materials=(Material("受理回执", originals=1),), forms=("领取登记表",), result="办件结果",
                  appointment=False, pinyin="bjjglq"),
        ),
        hours=OpeningHours(weekly={d: weekday for d in range(5)}),
        rules=Rules(),
        name_en="Test County Government Service Centre",
        notice="",
    )
    return replace(cfg, **overrides) if overrides else cfg


# ---------------------------------------------------------------- the bus


def make_bus(
    store: FakeStore,
    clock: FakeClock,
    *,
    always_open: bool = True,
    publisher: LivePublisher | None = None,
    uow_factory: Callable[[], UnitOfWork] | None = None,
) -> MessageBus:
    """The real MessageBus over fake units of work sharing `store`."""
    context = HandlerContext(
        now=clock.now,
        applicant_secret=APPLICANT_SECRET,
        always_open=always_open,
        status_url_base=STATUS_URL_BASE,
        vault=AesGcmVault(APPLICANT_SECRET),
    )
    return MessageBus(uow_factory or (lambda: FakeUnitOfWork(store)), context, publisher or RecordingPublisher())


# ---------------------------------------------------------------- identities

# Real GB/T 2260 county-level codes of Yunnan (五华区, 盘龙区, 官渡区, 富民县, 红塔区,
# 楚雄市, 个旧市, 景洪市); the rest of each number is random, so no real person's.
YUNNAN_COUNTIES = ("530102", "530103", "530111", "530124", "530402", "532301", "532501", "532801")


def id_number(*, born: date | None = None, rng: random.Random | None = None) -> str:
    """A generated resident ID number (GB 11643) with a correct check character."""
    r = rng or random
    if born is None:
        born = date(1950, 1, 1) + timedelta(days=r.randrange(0, 365 * 55))
    first17 = f"{r.choice(YUNNAN_COUNTIES)}{born:%Y%m%d}{r.randrange(1, 1000):03d}"
    return first17 + resident_id_check_char(first17)
