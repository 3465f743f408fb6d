"""The abstract unit of work and the repository interfaces the handlers use."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from hall_server.domain.appointments import Appointment
from hall_server.domain.audit import AuditEntry, StoredApplicant
from hall_server.domain.dispatch import Candidate, QueueCounts
from hall_server.domain.evaluations import Evaluation
from hall_server.domain.events import Event
from hall_server.domain.hall import HallConfig
from hall_server.domain.matters import Matter
from hall_server.domain.tickets import Ticket
from hall_server.domain.windows import Window, WindowStatus


class DuplicateKey(Exception):
    """A concurrent request stored the same idempotency key first; the bus retries."""


@dataclass(frozen=True)
class StoredResponse:
    """A response remembered under an Idempotency-Key."""

    fingerprint: str
    status: int
    body: dict[str, Any]


class HallRepository(Protocol):
    """Hall configurations, as loaded into the database."""

    def config(self, hall: str) -> HallConfig | None:
        """The hall's configuration, or None for an unknown hall."""
        ...


class TicketRepository(Protocol):
    """Tickets and the queries dispatch and estimates need."""

    def get(self, ticket_id: str) -> Ticket | None:
        """One ticket by id."""
        ...

    def by_token(self, token: str) -> Ticket | None:
        """One ticket by the token of its status page (the QR code)."""
        ...

    def add(self, ticket: Ticket) -> None:
        """Insert a new ticket."""
        ...

    def update(self, ticket: Ticket, expected_version: int) -> bool:
        """Write a changed ticket if nobody changed it since `expected_version`."""
        ...

    def waiting_candidates(
        self, hall: str, categories: Sequence[str], window: int, since: datetime
    ) -> list[Candidate]:
        """Today's waiting tickets (order_at >= since) of these categories, plus those
        transferred to this window.

        An implementation may return only the oldest ticket of each kind (appointment,
        priority, normal) per category and the oldest transferred one: dispatch is FIFO
        within each, so it chooses the same ticket either way.
        """
        ...

    def queue_counts(self, hall: str, category: str, ticket: Candidate, since: datetime) -> QueueCounts:
        """Counts of the category's waiting tickets of today (order_at >= since) by kind,
        in total and ahead of `ticket`."""
        ...

    def targeted_ahead(self, hall: str, window: int, ticket: Candidate, since: datetime) -> int:
        """Today's tickets (order_at >= since) transferred to `window` that wait ahead of `ticket`."""
        ...

    def leftovers(self, hall: str, before: date, limit: int) -> list[Ticket]:
        """Waiting, called or missed tickets of business days before `before`, oldest first."""
        ...

    def recent_priority_flags(self, hall: str, category: str, limit: int) -> list[bool]:
        """Whether each of the category's most recent calls went to a priority ticket, newest first."""
        ...

    def open_ticket_of(self, hall: str, applicant_key: str, category: str, business_date: date) -> Ticket | None:
        """The person's waiting, called or serving ticket of a category that day, if any."""
        ...

    def issued_count(self, hall: str, applicant_key: str, business_date: date) -> int:
        """Tickets a person got in the hall on a day (cancelled ones included)."""
        ...

    def recent_service_durations(self, hall: str, category: str, limit: int) -> list[float]:
        """Durations in seconds of the category's most recent services."""
        ...


class WindowRepository(Protocol):
    """Windows' live state."""

    def get(self, hall: str, number: int) -> Window | None:
        """One window."""
        ...

    def in_hall(self, hall: str) -> list[Window]:
        """All windows of a hall, by number."""
        ...

    def statuses_serving(self, hall: str, category: str) -> list[WindowStatus]:
        """The status of every window that serves the category (cheaper than `list`)."""
        ...

    def update(self, window: Window, expected_version: int) -> bool:
        """Write a changed window if nobody changed it since `expected_version`."""
        ...


class EvaluationRepository(Protocol):
    """Evaluations (好差评) and the served tickets still waiting for one."""

    def get(self, evaluation_id: str) -> Evaluation | None:
        """One evaluation by id."""
        ...

    def for_ticket(self, ticket_id: str) -> Evaluation | None:
        """The evaluation of a ticket, if it has one."""
        ...

    def add(self, evaluation: Evaluation) -> None:
        """Insert; DuplicateKey if the ticket was rated meanwhile."""
        ...

    def update(self, evaluation: Evaluation, expected_version: int) -> bool:
        """Write if nobody changed it since `expected_version`."""
        ...

    def unrated(self, hall: str, finished_before: datetime, limit: int) -> list[Ticket]:
        """Done tickets finished before the instant that have no evaluation, oldest first."""
        ...


class AppointmentRepository(Protocol):
    """Bookings and the places taken in each slot."""

    def get(self, appointment_id: str) -> Appointment | None:
        """One booking by id."""
        ...

    def by_code(self, code: str) -> Appointment | None:
        """One booking by the code of its QR."""
        ...

    def of_person(self, hall: str, applicant_key: str, since: datetime, until: datetime) -> list[Appointment]:
        """A person's bookings with slots starting in [since, until), by slot."""
        ...

    def add(self, appointment: Appointment) -> None:
        """Insert a booking."""
        ...

    def update(self, appointment: Appointment, expected_version: int) -> bool:
        """Write if nobody changed it since `expected_version`."""
        ...

    def take_place(self, hall: str, category: str, slot_start: datetime, capacity: int) -> bool:
        """Take one place of a slot if fewer than `capacity` are taken (atomically)."""
        ...

    def free_place(self, hall: str, category: str, slot_start: datetime) -> None:
        """Give a place back (a cancelled booking)."""
        ...

    def places_taken(self, hall: str, category: str, since: datetime, until: datetime) -> dict[datetime, int]:
        """Places taken per slot start in [since, until)."""
        ...

    def no_shows(self, hall: str, applicant_key: str, since: datetime) -> list[datetime]:
        """Slot starts of the person's no-shows since the instant."""
        ...

    def overdue(self, hall: str, before: datetime, limit: int) -> list[Appointment]:
        """Bookings still waiting for a check-in whose slot ended before the instant."""
        ...


class ApplicantRepository(Protocol):
    """People as stored: keyed hash, sealed number, masked form."""

    def remember(self, key: str, id_type: str, sealed: str, masked: str, now: datetime,
                 name_sealed: str | None = None, name_masked: str | None = None) -> None:
        """Store a person the first time they are seen (later calls note the visit and a newly read name)."""
        ...

    def get(self, key: str) -> StoredApplicant | None:
        """A stored person by keyed hash."""
        ...


class MatterRepository(Protocol):
    """Matters and their trips."""

    def open_for(self, hall: str, applicant_key: str, subject: str) -> Matter | None:
        """The person's open matter about a subject, if any."""
        ...

    def get(self, matter_id: str) -> Matter | None:
        """One matter by id."""
        ...

    def add(self, matter: Matter) -> None:
        """Insert a matter."""
        ...

    def update(self, matter: Matter, expected_version: int) -> bool:
        """Write if nobody changed it since `expected_version`."""
        ...


class AuditRepository(Protocol):
    """The append-only audit log."""

    def add(self, entry: AuditEntry) -> None:
        """Append an entry."""
        ...


class CounterRepository(Protocol):
    """Daily ticket sequences."""

    def next_seq(self, hall: str, prefix: str, business_date: date) -> int:
        """Atomically take the next sequence number of a prefix on a day."""
        ...


class IdempotencyRepository(Protocol):
    """Responses remembered under Idempotency-Key headers."""

    def get(self, scope: str, key: str) -> StoredResponse | None:
        """The remembered response, if any."""
        ...

    def put(self, scope: str, key: str, response: StoredResponse) -> None:
        """Remember a response; raise DuplicateKey if a concurrent request won."""
        ...


class Repositories(Protocol):
    """The read side of a unit of work: enough to present tickets and windows."""

    @property
    def halls(self) -> HallRepository:
        """Hall configurations."""
        ...

    @property
    def tickets(self) -> TicketRepository:
        """Tickets."""
        ...

    @property
    def windows(self) -> WindowRepository:
        """Windows."""
        ...


class UnitOfWork(abc.ABC):
    """One transaction: repositories, recorded events, commit or rollback. One per command."""

    halls: HallRepository
    tickets: TicketRepository
    windows: WindowRepository
    counters: CounterRepository
    evaluations: EvaluationRepository
    appointments: AppointmentRepository
    applicants: ApplicantRepository
    audit: AuditRepository
    matters: MatterRepository
    idempotency: IdempotencyRepository

    def __init__(self) -> None:
        self._events: list[Event] = []
        self.committed_envelopes: list[dict[str, Any]] = []

    def __enter__(self) -> UnitOfWork:
        self._events = []
        self.committed_envelopes = []
        return self

    def __exit__(self, *exc: object) -> None:
        self.rollback()

    def record(self, event: Event) -> None:
        """Add an event; it is stored (with its outbox row) in the same commit."""
        self._events.append(event)

    def commit(self) -> None:
        """Store recorded events and commit; then `committed_envelopes` lists them."""
        self.committed_envelopes = self._commit(self._events)
        self._events = []

    @abc.abstractmethod
    def _commit(self, events: Sequence[Event]) -> list[dict[str, Any]]:
        """Write events + outbox rows, commit, and return the events' envelopes."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Undo everything not committed (a no-op after commit)."""
