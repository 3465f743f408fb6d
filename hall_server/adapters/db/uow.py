"""The SQL unit of work: one transaction; events and outbox rows go in with the change."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, update

from hall_server.adapters.db import tables as tb
from hall_server.adapters.db.engine import Database
from hall_server.adapters.db.repositories import (
    ConfigCache,
    SqlApplicantRepository,
    SqlAppointmentRepository,
    SqlAuditRepository,
    SqlCounterRepository,
    SqlEvaluationRepository,
    SqlHallRepository,
    SqlIdempotencyRepository,
    SqlMatterRepository,
    SqlTicketRepository,
    SqlWindowRepository,
    TtlCache,
)
from hall_server.domain.events import Event
from hall_server.protocol import EVENT_TYPES, envelope
from hall_server.services.presenters import jsonable
from hall_server.services.unit_of_work import UnitOfWork

_S = tb.hall_sequences.c
_BUMP_SEQ = (
    update(tb.hall_sequences).where(_S.hall == bindparam("b_hall")).values(last_seq=_S.last_seq + 1)
    .returning(_S.last_seq)
)
_INSERT_EVENT = insert(tb.events)
_INSERT_OUTBOX = insert(tb.outbox)


def next_event_seq(conn: Connection, hall: str) -> int:
    """Bump and return the hall's event sequence (the row lock orders concurrent writers)."""
    row = conn.execute(_BUMP_SEQ, {"b_hall": hall}).first()
    if row is None:
        raise LookupError(f"hall {hall!r} has no event sequence row; run `onedoor init`")
    return int(row.last_seq)


def store_events(
    conn: Connection, events: Sequence[Event], now: datetime, tz_of: Callable[[str], Any]
) -> list[dict[str, Any]]:
    """Insert events and their outbox rows; return the envelopes, in seq order."""
    envelopes: list[dict[str, Any]] = []
    for e in events:
        seq = next_event_seq(conn, e.hall)
        event_id = str(uuid.uuid4())
        wire = EVENT_TYPES[type(e).__name__]
        data = jsonable(dict(e.data))
        conn.execute(_INSERT_EVENT, {"id": event_id, "hall": e.hall, "seq": seq, "type": wire.value,
                                     "occurred_at": e.occurred_at, "data": data})
        conn.execute(_INSERT_OUTBOX, {"event_id": event_id, "hall": e.hall, "seq": seq, "status": "pending",
                                      "attempts": 0, "created_at": now})
        occurred = e.occurred_at.astimezone(tz_of(e.hall)).isoformat(timespec="seconds")
        envelopes.append(envelope(event_id, seq, wire.value, e.hall, occurred, data))
    return envelopes


class SqlUnitOfWork(UnitOfWork):
    """A write transaction on the database (BEGIN IMMEDIATE on SQLite)."""

    def __init__(self, db: Database, cache: ConfigCache, now: Callable[[], datetime],
                 reads: TtlCache | None = None) -> None:
        super().__init__()
        self._db = db
        self._cache = cache
        self._reads = reads
        self._now = now
        self._stack: ExitStack | None = None
        self._conn: Connection | None = None

    def __enter__(self) -> SqlUnitOfWork:
        super().__enter__()
        stack = ExitStack()
        stack.enter_context(self._db.writer_lock())
        try:
            self._conn = stack.enter_context(self._db.write.connect())
            self._conn.begin()
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        conn = self._conn
        self.halls = SqlHallRepository(conn, self._cache)
        self.tickets = SqlTicketRepository(conn, self._reads)
        self.windows: SqlWindowRepository = SqlWindowRepository(conn, self._reads)
        self.counters = SqlCounterRepository(conn)
        self.evaluations = SqlEvaluationRepository(conn)
        self.appointments = SqlAppointmentRepository(conn)
        self.applicants = SqlApplicantRepository(conn)
        self.audit = SqlAuditRepository(conn)
        self.matters = SqlMatterRepository(conn)
        self.idempotency = SqlIdempotencyRepository(conn, self._now)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.rollback()
        finally:
            if self._stack is not None:
                self._stack.close()
                self._stack = None
            self._conn = None

    @property
    def connection(self) -> Connection:
        """The transaction's connection (for adapters that share the transaction)."""
        assert self._conn is not None, "unit of work not entered"
        return self._conn

    def _tz(self, hall: str) -> Any:
        cfg = self.halls.config(hall)
        assert cfg is not None
        return cfg.tz

    def _commit(self, events: Sequence[Event]) -> list[dict[str, Any]]:
        conn = self.connection
        envelopes = store_events(conn, events, self._now(), self._tz)
        conn.commit()
        if self._reads is not None:
            for hall in self.windows.changed_halls:
                self._reads.forget_hall(hall)
        return envelopes

    def rollback(self) -> None:
        """Roll back whatever is not committed."""
        if self._conn is not None and self._conn.in_transaction():
            self._conn.rollback()
