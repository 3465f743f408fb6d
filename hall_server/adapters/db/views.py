"""Read-side views: what GET endpoints and live snapshots return, straight from SQL."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from hall_server.adapters.db import tables as tb
from hall_server.adapters.db.engine import Database
from hall_server.adapters.db.repositories import (
    ConfigCache,
    SqlAppointmentRepository,
    SqlHallRepository,
    SqlTicketRepository,
    SqlWindowRepository,
    TtlCache,
    evaluation_from_row,
)
from hall_server.adapters.hall_config import dump_hall_config
from hall_server.domain.appointments import slots_on
from hall_server.domain.errors import NotFound, UnknownCategory
from hall_server.domain.hall import HallConfig
from hall_server.domain.numbering import business_date, day_start
from hall_server.domain.tickets import Ticket, TicketStatus
from hall_server.services.handlers import HandlerContext, resource
from hall_server.services.presenters import evaluation_public, rfc3339, window_public

RECENT_CALLS = 10


class _Reader:
    """Repositories over one read connection (duck-types services' Repositories)."""

    def __init__(self, conn: Connection, cache: ConfigCache, reads: TtlCache | None) -> None:
        self.conn = conn
        self.halls = SqlHallRepository(conn, cache)
        self.tickets = SqlTicketRepository(conn, reads)
        self.windows = SqlWindowRepository(conn, reads)
        self.appointments = SqlAppointmentRepository(conn)


class HallViews:
    """Queries for the API and the live snapshot; never writes."""

    def __init__(self, db: Database, cache: ConfigCache, context: HandlerContext,
                 now: Callable[[], datetime], reads: TtlCache | None = None) -> None:
        self._db = db
        self._cache = cache
        self._reads = reads
        self._ctx = context
        self._now = now

    @contextlib.contextmanager
    def _read(self, *, repeatable: bool = False) -> Iterator[_Reader]:
        with self._db.read.connect() as conn:
            if repeatable and not self._db.is_sqlite:
                # One snapshot for several statements (SQLite's read transaction is one already).
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield _Reader(conn, self._cache, self._reads)

    def _config(self, r: _Reader, hall: str) -> HallConfig:
        cfg = r.halls.config(hall)
        if cfg is None:
            raise NotFound(f"没有编号为 {hall} 的大厅。No hall with code '{hall}'.")
        return cfg

    # ---------------------------------------------------------------- halls

    def halls(self) -> list[dict[str, Any]]:
        """Every hall: code, name, level, timezone."""
        with self._read() as r:
            rows = r.conn.execute(
                select(tb.halls.c.code, tb.halls.c.name, tb.halls.c.level, tb.halls.c.timezone)
                .order_by(tb.halls.c.code)
            ).all()
        return [{"code": x.code, "name": x.name, "level": x.level, "timezone": x.timezone} for x in rows]

    def hall_config(self, hall: str) -> HallConfig:
        """The hall's configuration (NotFound for an unknown hall)."""
        with self._read() as r:
            return self._config(r, hall)

    def categories(self, hall: str) -> list[dict[str, Any]]:
        """The hall's categories."""
        cfg = self.hall_config(hall)
        return [{"code": c.code, "name": c.name, "name_en": c.name_en, "prefix": c.prefix}
                for c in cfg.categories]

    def items(self, hall: str, q: str | None = None) -> list[dict[str, Any]]:
        """Service items with their standard elements, optionally filtered by `q`."""
        cfg = self.hall_config(hall)
        items = dump_hall_config(cfg)["items"]
        if q:
            needle = q.strip().lower()
            items = [
                i for i in items
                if needle in i["name"].lower() or needle in i["code"].lower()
                or needle in (i.get("pinyin") or "")
            ]
        return items

    def bundles(self, hall: str, q: str | None = None) -> list[dict[str, Any]]:
        """一件事 bundles with the names of their items, optionally filtered by `q`."""
        cfg = self.hall_config(hall)
        needle = (q or "").strip().lower()
        out: list[dict[str, Any]] = []
        for b in cfg.bundles:
            if needle and not (needle in b.name.lower() or needle in b.code.lower() or needle in b.pinyin):
                continue
            members = [{"code": code, "name": item.name if (item := cfg.item(code)) else code} for code in b.items]
            out.append({"code": b.code, "name": b.name, "category": b.category, "pinyin": b.pinyin,
                        "items": members})
        return out

    # ---------------------------------------------------------------- windows and queue

    def windows(self, hall: str) -> list[dict[str, Any]]:
        """Every window with status, staff and current ticket."""
        with self._read() as r:
            return self._windows(r, hall)

    def _windows(self, r: _Reader, hall: str) -> list[dict[str, Any]]:
        cfg = self._config(r, hall)
        out = []
        for w in r.windows.in_hall(hall):
            current = r.tickets.get(w.current_ticket) if w.current_ticket else None
            out.append(window_public(w, cfg.tz, current))
        return out

    def snapshot(self, hall: str) -> dict[str, Any]:
        """`{"seq", "queue", "windows"}` read in one transaction, so events after `seq` are exactly
        what the snapshot does not show yet (API.md "Live events")."""
        with self._read(repeatable=True) as r:
            return {"seq": self._last_seq(r, hall), "queue": self._queue(r, hall), "windows": self._windows(r, hall)}

    def queue(self, hall: str) -> dict[str, Any]:
        """Waiting counts and longest waits per category, and the latest calls."""
        with self._read() as r:
            return self._queue(r, hall)

    def _queue(self, r: _Reader, hall: str) -> dict[str, Any]:
        now = self._now()
        t = tb.tickets.c
        cfg = self._config(r, hall)
        # Today's hall only: tickets left from an earlier day are never called.
        since = day_start(business_date(now, cfg.tz), cfg.tz)
        stats = {
            row.category: (row.n, row.oldest)
            for row in r.conn.execute(
                select(t.category, func.count().label("n"), func.min(t.issued_at).label("oldest"))
                .where(t.hall == hall, t.status == TicketStatus.WAITING.value, t.order_at >= since)
                .group_by(t.category)
            ).all()
        }
        calls = r.conn.execute(
            select(t.number, t.window, t.called_at, t.category)
            .where(t.hall == hall, t.called_at >= since, t.window.is_not(None))
            .order_by(t.called_at.desc())
            .limit(RECENT_CALLS)
        ).all()
        categories = []
        for c in cfg.categories:
            n, oldest = stats.get(c.code, (0, None))  # min() keeps the column's type: aware UTC
            longest = max(0, round((now - oldest).total_seconds())) if oldest is not None else 0
            categories.append({"code": c.code, "name": c.name, "waiting": int(n), "longest_wait_s": longest})
        return {
            "categories": categories,
            "recent_calls": [
                {"number": x.number, "window": x.window, "category": x.category,
                 "called_at": rfc3339(x.called_at, cfg.tz)}
                for x in calls
            ],
        }

    # ---------------------------------------------------------------- tickets

    def _present(self, r: _Reader, t: Ticket) -> dict[str, Any]:
        return resource(r, self._ctx, self._config(r, t.hall), t)

    def ticket(self, ticket_id: str) -> tuple[str, dict[str, Any]]:
        """(hall, body) of a ticket by id."""
        with self._read() as r:
            t = r.tickets.get(ticket_id)
            if t is None:
                raise NotFound("没有找到该号票。No such ticket.")
            return t.hall, self._present(r, t)

    @staticmethod
    def _by_token(r: _Reader, token: str) -> Ticket:
        # Tokens are 22 characters; anything much longer is not worth a query.
        t = r.tickets.by_token(token) if len(token) <= 64 else None
        if t is None:
            raise NotFound("没有找到该号票。No such ticket.")
        return t

    def ticket_by_token_hall(self, token: str) -> tuple[str, str]:
        """(hall, ticket id) of a status-page token (NotFound for an unknown one)."""
        with self._read() as r:
            t = self._by_token(r, token)
            return t.hall, t.id

    def ticket_by_token(self, token: str) -> dict[str, Any]:
        """A ticket by its status-page token (the visitor's own page)."""
        with self._read() as r:
            return self._present(r, self._by_token(r, token))

    # ---------------------------------------------------------------- appointments

    def slots(self, hall: str, day: date, category: str) -> list[dict[str, Any]]:
        """The day's slots of a category with their capacity and places taken."""
        with self._read() as r:
            cfg = self._config(r, hall)
            if cfg.category(category) is None:
                raise UnknownCategory(f"没有类别 {category}。No category '{category}'.")
            since = day_start(day, cfg.tz)
            taken = r.appointments.places_taken(hall, category, since, since + timedelta(days=1))
        capacity = cfg.rules.appointment_slot_capacity
        return [{"start": rfc3339(s.start, cfg.tz), "end": rfc3339(s.end, cfg.tz), "capacity": capacity,
                 "booked": taken.get(s.start, 0)}
                for s in slots_on(cfg, day, always_open=self._ctx.always_open)]

    # ---------------------------------------------------------------- evaluations

    def evaluations(self, hall: str, rectification: str | None, limit: int) -> list[dict[str, Any]]:
        """The hall's evaluations, newest first; `rectification` filters by case state."""
        e = tb.evaluations.c
        q = select(tb.evaluations).where(e.hall == hall).order_by(e.submitted_at.desc()).limit(limit)
        if rectification is not None:
            q = q.where(e.rectification == rectification)
        with self._read() as r:
            cfg = self._config(r, hall)
            rows = r.conn.execute(q).all()
        return [evaluation_public(evaluation_from_row(x), cfg.tz) for x in rows]

    # ---------------------------------------------------------------- matters

    def matters(self, hall: str, status: str | None, min_trips: int, limit: int) -> list[dict[str, Any]]:
        """Matters with at least `min_trips` trips, most trips first, with the applicant masked."""
        m, a = tb.matters.c, tb.applicants.c
        q = (select(tb.matters, a.masked)
             .select_from(tb.matters.outerjoin(tb.applicants, a.key == m.applicant_key))
             .where(m.hall == hall, m.trips >= min_trips)
             .order_by(m.trips.desc(), m.opened_at.desc()).limit(limit))
        if status is not None:
            q = q.where(m.status == status)
        with self._read() as r:
            cfg = self._config(r, hall)
            rows = r.conn.execute(q).all()
        return [{"id": x.id, "subject": x.subject, "applicant": x.masked or "", "status": x.status,
                 "trips": x.trips, "last_visit": x.last_visit, "opened_at": rfc3339(x.opened_at, cfg.tz),
                 "closed_at": rfc3339(x.closed_at, cfg.tz)} for x in rows]

    # ---------------------------------------------------------------- audit

    def audit(self, hall: str, limit: int) -> list[dict[str, Any]]:
        """The hall's audit log, newest first."""
        a = tb.audit_log.c
        with self._read() as r:
            cfg = self._config(r, hall)
            rows = r.conn.execute(select(tb.audit_log).where(a.hall == hall).order_by(a.at.desc()).limit(limit)).all()
        return [{"id": x.id, "at": rfc3339(x.at, cfg.tz), "actor": x.actor, "action": x.action,
                 "subject": x.subject, "detail": x.detail} for x in rows]

    # ---------------------------------------------------------------- events

    def events_after(self, hall: str, after: int, limit: int) -> list[dict[str, Any]]:
        """The hall's events with seq > after, in order."""
        e = tb.events.c
        with self._read() as r:
            cfg = self._config(r, hall)
            rows = r.conn.execute(
                select(tb.events).where(e.hall == hall, e.seq > after).order_by(e.seq).limit(limit)
            ).all()
        return [
            {"id": x.id, "seq": x.seq, "type": x.type, "hall": x.hall,
             "occurred_at": rfc3339(x.occurred_at, cfg.tz), "data": x.data}
            for x in rows
        ]

    def last_seq(self, hall: str) -> int:
        """The hall's latest event seq (0 before the first event)."""
        with self._read() as r:
            return self._last_seq(r, hall)

    def _last_seq(self, r: _Reader, hall: str) -> int:
        self._config(r, hall)
        v = r.conn.execute(
            select(tb.hall_sequences.c.last_seq).where(tb.hall_sequences.c.hall == hall)
        ).scalar_one_or_none()
        return int(v or 0)
