"""Repositories over one SQLAlchemy connection (the unit of work's transaction)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hall_server.adapters.db import tables as tb
from hall_server.adapters.hall_config import parse_hall_config
from hall_server.domain.dispatch import Candidate
from hall_server.domain.hall import HallConfig
from hall_server.domain.tickets import Channel, Outcome, Ticket, TicketStatus
from hall_server.domain.windows import Window, WindowStatus
from hall_server.services.unit_of_work import DuplicateKey, StoredResponse


class ConfigCache:
    """Parsed hall configurations, shared by all units of work of a process.

    Parsing a hall's YAML-shaped document on every request would cost more than the
    request; the cache is keyed by the hall's `config_version`, so an edit made by any
    process is seen by the next unit of work of every process.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_hall: dict[str, tuple[int, HallConfig]] = {}

    def get(self, conn: Connection, hall: str) -> HallConfig | None:
        """The hall's current configuration."""
        version = conn.execute(
            select(tb.halls.c.config_version).where(tb.halls.c.code == hall)
        ).scalar_one_or_none()
        if version is None:
            return None
        with self._lock:
            hit = self._by_hall.get(hall)
        if hit is not None and hit[0] == version:
            return hit[1]
        doc = conn.execute(select(tb.halls.c.config).where(tb.halls.c.code == hall)).scalar_one()
        cfg = parse_hall_config(doc, source=f"database:halls/{hall}")
        with self._lock:
            self._by_hall[hall] = (version, cfg)
        return cfg


class SqlHallRepository:
    """Hall configurations stored in `halls.config`."""

    def __init__(self, conn: Connection, cache: ConfigCache) -> None:
        self._conn = conn
        self._cache = cache

    def config(self, hall: str) -> HallConfig | None:
        """The hall's configuration, or None."""
        return self._cache.get(self._conn, hall)


_T = tb.tickets.c


def ticket_from_row(r: Any) -> Ticket:
    """Map a tickets row to the domain object."""
    return Ticket(
        id=r.id,
        hall=r.hall,
        number=r.number,
        business_date=r.business_date,
        category=r.category,
        channel=Channel(r.channel),
        issued_at=r.issued_at,
        order_at=r.order_at,
        token=r.token,
        item=r.item,
        status=TicketStatus(r.status),
        priority_group=r.priority_group,
        appointment=bool(r.appointment),
        applicant_key=r.applicant_key,
        applicant_masked=r.applicant_masked,
        window=r.window,
        target_window=r.target_window,
        called_at=r.called_at,
        started_at=r.started_at,
        finished_at=r.finished_at,
        outcome=Outcome(r.outcome) if r.outcome else None,
        recall_count=r.recall_count,
        transfer_count=r.transfer_count,
        version=r.version,
    )


def _ticket_values(t: Ticket) -> dict[str, Any]:
    return {
        "status": t.status.value,
        "category": t.category,
        "window": t.window,
        "target_window": t.target_window,
        "order_at": t.order_at,
        "called_at": t.called_at,
        "started_at": t.started_at,
        "finished_at": t.finished_at,
        "outcome": t.outcome.value if t.outcome else None,
        "recall_count": t.recall_count,
        "transfer_count": t.transfer_count,
        "version": t.version,
    }


class SqlTicketRepository:
    """Tickets; every update is conditional on the version read (optimistic locking)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, ticket_id: str) -> Ticket | None:
        """One ticket by id."""
        row = self._conn.execute(select(tb.tickets).where(_T.id == ticket_id)).first()
        return ticket_from_row(row) if row else None

    def by_token(self, token: str) -> Ticket | None:
        """One ticket by its status-page token."""
        row = self._conn.execute(select(tb.tickets).where(_T.token == token)).first()
        return ticket_from_row(row) if row else None

    def add(self, t: Ticket) -> None:
        """Insert a new ticket."""
        self._conn.execute(
            insert(tb.tickets).values(
                id=t.id,
                hall=t.hall,
                number=t.number,
                business_date=t.business_date,
                channel=t.channel.value,
                issued_at=t.issued_at,
                item=t.item,
                priority_group=t.priority_group,
                appointment=t.appointment,
                applicant_key=t.applicant_key,
                applicant_masked=t.applicant_masked,
                token=t.token,
                **_ticket_values(t),
            )
        )

    def update(self, t: Ticket, expected_version: int) -> bool:
        """Write the ticket if its stored version is still `expected_version`."""
        res = self._conn.execute(
            update(tb.tickets)
            .where(and_(_T.id == t.id, _T.version == expected_version))
            .values(**_ticket_values(t))
        )
        return res.rowcount == 1

    def waiting_candidates(self, hall: str, categories: Sequence[str], window: int) -> list[Candidate]:
        """Waiting tickets of these categories plus those transferred to this window."""
        rows = self._conn.execute(
            select(_T.id, _T.category, _T.order_at, _T.priority_group, _T.appointment, _T.target_window)
            .where(
                _T.hall == hall,
                _T.status == TicketStatus.WAITING.value,
                or_(
                    and_(_T.category.in_(list(categories)), _T.target_window.is_(None)),
                    _T.target_window == window,
                ),
            )
        ).all()
        return [
            Candidate(r.id, r.category, r.order_at, r.priority_group is not None, bool(r.appointment),
                      r.target_window)
            for r in rows
        ]

    def position(self, t: Ticket) -> int:
        """1 + the waiting tickets of the same queue ranked ahead (see dispatch.queue_rank)."""
        appt = 0 if t.appointment else 1
        prio = 0 if t.priority_group is not None else 1
        appt_col = case((_T.appointment.is_(True), 0), else_=1)
        prio_col = case((_T.priority_group.is_not(None), 0), else_=1)
        ahead = or_(
            appt_col < appt,
            and_(appt_col == appt, prio_col < prio),
            and_(appt_col == appt, prio_col == prio, _T.order_at < t.order_at),
            and_(appt_col == appt, prio_col == prio, _T.order_at == t.order_at, _T.id < t.id),
        )
        same_queue = _T.target_window == t.target_window if t.target_window is not None else and_(
            _T.category == t.category, _T.target_window.is_(None)
        )
        n = self._conn.execute(
            select(func.count())
            .select_from(tb.tickets)
            .where(_T.hall == t.hall, _T.status == TicketStatus.WAITING.value, same_queue, ahead)
        ).scalar_one()
        return int(n) + 1

    def recent_priority_flags(self, hall: str, category: str, limit: int) -> list[bool]:
        """Priority flags of the category's latest calls, newest first."""
        rows = self._conn.execute(
            select(_T.priority_group)
            .where(_T.hall == hall, _T.category == category, _T.called_at.is_not(None),
                   _T.appointment.is_(False))
            .order_by(_T.called_at.desc())
            .limit(limit)
        ).all()
        return [r.priority_group is not None for r in rows]

    def issued_count(self, hall: str, applicant_key: str, business_date: date) -> int:
        """Tickets the person got in the hall that day."""
        return int(
            self._conn.execute(
                select(func.count())
                .select_from(tb.tickets)
                .where(_T.hall == hall, _T.applicant_key == applicant_key,
                       _T.business_date == business_date.isoformat())
            ).scalar_one()
        )

    def recent_service_durations(self, hall: str, category: str, limit: int) -> list[float]:
        """Durations (s) of the category's latest finished services."""
        rows = self._conn.execute(
            select(_T.started_at, _T.finished_at)
            .where(_T.hall == hall, _T.category == category, _T.status == TicketStatus.DONE.value,
                   _T.started_at.is_not(None))
            .order_by(_T.finished_at.desc())
            .limit(limit)
        ).all()
        return [(r.finished_at - r.started_at).total_seconds() for r in rows]


_W = tb.windows.c


def window_from_row(r: Any) -> Window:
    """Map a windows row to the domain object."""
    return Window(
        hall=r.hall,
        number=r.number,
        name=r.name,
        categories=tuple(r.categories),
        status=WindowStatus(r.status),
        pause_reason=r.pause_reason,
        staff=r.staff,
        current_ticket=r.current_ticket,
        status_since=r.status_since,
        version=r.version,
    )


class SqlWindowRepository:
    """Windows' live state."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, hall: str, number: int) -> Window | None:
        """One window."""
        row = self._conn.execute(select(tb.windows).where(_W.hall == hall, _W.number == number)).first()
        return window_from_row(row) if row else None

    def list(self, hall: str) -> list[Window]:
        """All windows of a hall by number."""
        rows = self._conn.execute(select(tb.windows).where(_W.hall == hall).order_by(_W.number)).all()
        return [window_from_row(r) for r in rows]

    def update(self, w: Window, expected_version: int) -> bool:
        """Write the window if its stored version is still `expected_version`."""
        res = self._conn.execute(
            update(tb.windows)
            .where(_W.hall == w.hall, _W.number == w.number, _W.version == expected_version)
            .values(
                status=w.status.value,
                pause_reason=w.pause_reason,
                staff=w.staff,
                current_ticket=w.current_ticket,
                status_since=w.status_since,
                version=w.version,
            )
        )
        return res.rowcount == 1


class SqlCounterRepository:
    """Daily ticket sequences: one row per hall, prefix and day, bumped in the transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def next_seq(self, hall: str, prefix: str, business_date: date) -> int:
        """Take the next sequence number; the row lock serialises concurrent issuers."""
        c = tb.ticket_counters.c
        key = (c.hall == hall, c.prefix == prefix, c.business_date == business_date.isoformat())
        row = self._conn.execute(
            update(tb.ticket_counters).where(*key).values(last_seq=c.last_seq + 1).returning(c.last_seq)
        ).first()
        if row is not None:
            return int(row.last_seq)
        try:
            with self._conn.begin_nested():
                self._conn.execute(
                    insert(tb.ticket_counters).values(
                        hall=hall, prefix=prefix, business_date=business_date.isoformat(), last_seq=1
                    )
                )
            return 1
        except IntegrityError:
            # Another transaction created the day's row first (PostgreSQL): bump it instead.
            row = self._conn.execute(
                update(tb.ticket_counters).where(*key).values(last_seq=c.last_seq + 1).returning(c.last_seq)
            ).one()
            return int(row.last_seq)


class SqlIdempotencyRepository:
    """Responses remembered under Idempotency-Key, stored in the same transaction."""

    def __init__(self, conn: Connection, now: Any) -> None:
        self._conn = conn
        self._now = now

    def get(self, scope: str, key: str) -> StoredResponse | None:
        """The remembered response, if any."""
        c = tb.idempotency_keys.c
        row = self._conn.execute(
            select(c.fingerprint, c.status, c.body).where(c.scope == scope, c.key == key)
        ).first()
        return StoredResponse(row.fingerprint, row.status, row.body) if row else None

    def put(self, scope: str, key: str, response: StoredResponse) -> None:
        """Remember a response; DuplicateKey when a concurrent request stored it first."""
        try:
            with self._conn.begin_nested():
                self._conn.execute(
                    insert(tb.idempotency_keys).values(
                        scope=scope, key=key, fingerprint=response.fingerprint, status=response.status,
                        body=response.body, created_at=self._now(),
                    )
                )
        except IntegrityError:
            raise DuplicateKey(key)
