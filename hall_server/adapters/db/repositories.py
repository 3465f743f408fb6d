"""Repositories over one SQLAlchemy connection (the unit of work's transaction)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, String, and_, bindparam, case, cast, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hall_server.adapters.db import tables as tb
from hall_server.adapters.hall_config import parse_hall_config
from hall_server.domain.appointments import Appointment, AppointmentStatus
from hall_server.domain.audit import AuditEntry, StoredApplicant
from hall_server.domain.dispatch import Candidate, QueueCounts
from hall_server.domain.evaluations import Evaluation, EvaluationChannel, Level, Rectification
from hall_server.domain.hall import HallConfig
from hall_server.domain.matters import Matter, MatterStatus
from hall_server.domain.numbering import parse_number
from hall_server.domain.tickets import Channel, Outcome, Ticket, TicketStatus
from hall_server.domain.windows import Window, WindowStatus
from hall_server.services.unit_of_work import DuplicateKey, StoredResponse

_CONFIG_VERSION = select(tb.halls.c.config_version).where(tb.halls.c.code == bindparam("b_hall"))


class ConfigCache:
    """Parsed hall configurations, shared by all units of work of a process.

    Parsing a hall's YAML-shaped document on every request would cost more than the
    request; the cache is keyed by the hall's `config_version`, so an edit made by any
    process is seen by the next unit of work of every process.
    """

    def __init__(self, recheck_s: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._recheck_s = recheck_s
        # hall -> (config_version, config, monotonic time the version was last read)
        self._by_hall: dict[str, tuple[int, HallConfig, float]] = {}

    def get(self, conn: Connection, hall: str) -> HallConfig | None:
        """The hall's current configuration (an edit by another process shows within `recheck_s`)."""
        now = time.monotonic()
        with self._lock:
            hit = self._by_hall.get(hall)
        if hit is not None and now - hit[2] < self._recheck_s:
            return hit[1]
        version = conn.execute(_CONFIG_VERSION, {"b_hall": hall}).scalar_one_or_none()
        if version is None:
            return None
        if hit is not None and hit[0] == version:
            cfg = hit[1]
        else:
            doc = conn.execute(select(tb.halls.c.config).where(tb.halls.c.code == hall)).scalar_one()
            cfg = parse_hall_config(doc, source=f"database:halls/{hall}")
        with self._lock:
            self._by_hall[hall] = (version, cfg, now)
        return cfg

    def forget(self, hall: str | None = None) -> None:
        """Drop cached configurations (after this process changed one)."""
        with self._lock:
            if hall is None:
                self._by_hall.clear()
            else:
                self._by_hall.pop(hall, None)


class TtlCache:
    """Slow-moving reads shared by the units of work of a process, each kept for a while.

    Used for what only estimates and soft checks read: the recent service durations of a
    category (they move slowly) and the window statuses per category (forgotten when a
    unit of work of this process changes a window; other processes' changes show within
    the time to live).
    """

    def __init__(self, ttl_s: float = 1.0) -> None:
        self._ttl = ttl_s
        self._lock = threading.Lock()
        self._data: dict[tuple[str, ...], tuple[float, Any]] = {}

    def get(self, key: tuple[str, ...], load: Any) -> Any:
        """The cached value for `key`, or `load()` (then cached)."""
        now = time.monotonic()
        with self._lock:
            hit = self._data.get(key)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        value = load()
        with self._lock:
            self._data[key] = (now, value)
        return value

    def forget_hall(self, hall: str) -> None:
        """Drop every entry of a hall."""
        with self._lock:
            for key in [k for k in self._data if k[1] == hall]:
                del self._data[key]


class SqlHallRepository:
    """Hall configurations stored in `halls.config`."""

    def __init__(self, conn: Connection, cache: ConfigCache) -> None:
        self._conn = conn
        self._cache = cache
        self._seen: dict[str, HallConfig | None] = {}

    def config(self, hall: str) -> HallConfig | None:
        """The hall's configuration, or None (read once per unit of work)."""
        if hall not in self._seen:
            self._seen[hall] = self._cache.get(self._conn, hall)
        return self._seen[hall]


_T = tb.tickets.c
_W = tb.windows.c


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
        bundle=r.bundle,
        status=TicketStatus(r.status),
        priority_group=r.priority_group,
        priority_reason=r.priority_reason,
        priority_granted_by=r.priority_granted_by,
        appointment=bool(r.appointment),
        applicant_key=r.applicant_key,
        applicant_masked=r.applicant_masked,
        matter_id=r.matter_id,
        trip=r.trip,
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


# Statements are built once: building and cache-keying a Core statement per call cost
# more than executing it (benchmarks/api_load.py).
_MUTABLE = ("status", "category", "lane", "window", "target_window", "order_at", "called_at", "started_at",
            "finished_at", "outcome", "recall_count", "transfer_count", "version")
APPOINTMENT_LANE, PRIORITY_LANE, NORMAL_LANE = 0, 1, 2
_GET_TICKET = select(tb.tickets).where(_T.id == bindparam("b_id"))
_GET_BY_TOKEN = select(tb.tickets).where(_T.token == bindparam("b_token"))
_INSERT_TICKET = insert(tb.tickets)
_UPDATE_TICKET = (
    update(tb.tickets)
    .where(_T.id == bindparam("b_id"), _T.version == bindparam("b_expected"))
    .values({c: bindparam(f"v_{c}") for c in _MUTABLE})
)
_CANDIDATE_COLUMNS = (_T.id, _T.seq, _T.category, _T.order_at, _T.priority_group, _T.appointment,
                      _T.target_window)
# The head of one lane of one category: dispatch is FIFO within a lane, so the heads
# are all it needs, and each is one step down ix_tickets_lane however long the queue.
_LANE_HEAD = (
    select(*_CANDIDATE_COLUMNS)
    .where(_T.hall == bindparam("b_hall"), _T.status == TicketStatus.WAITING.value,
           _T.category == bindparam("b_category"), _T.lane == bindparam("b_lane"), _T.target_window.is_(None),
           _T.order_at >= bindparam("b_since"))
    .order_by(_T.order_at, _T.seq, _T.id)
    .limit(1)
)
_TARGETED_HEAD = (
    select(*_CANDIDATE_COLUMNS)
    .where(_T.hall == bindparam("b_hall"), _T.status == TicketStatus.WAITING.value,
           _T.target_window == bindparam("b_window"), _T.order_at >= bindparam("b_since"))
    .order_by(_T.order_at, _T.seq, _T.id)
    .limit(1)
)

# "ahead" in dispatch's FIFO order: (order_at, seq) smaller than the ticket's. Dispatch
# breaks a tie beyond that by id; equal order_at and seq in one queue would take a ticket
# transferred from another category at the very microsecond of issue, and comparing ids
# here would cost a table read per waiting ticket.
_AHEAD = or_(
    _T.order_at < bindparam("b_order_at"),
    and_(_T.order_at == bindparam("b_order_at"), _T.seq < bindparam("b_seq")),
)
_QUEUE_COUNTS = (
    select(_T.lane, func.count().label("total"), func.sum(case((_AHEAD, 1), else_=0)).label("ahead"))
    .where(
        _T.hall == bindparam("b_hall"), _T.status == TicketStatus.WAITING.value,
        _T.category == bindparam("b_category"), _T.target_window.is_(None), _T.id != bindparam("b_id"),
        _T.order_at >= bindparam("b_since"),
    )
    .group_by(_T.lane)
)
_TARGETED_AHEAD = select(func.count()).select_from(tb.tickets).where(
    _T.hall == bindparam("b_hall"), _T.status == TicketStatus.WAITING.value,
    _T.target_window == bindparam("b_window"), _T.id != bindparam("b_id"), _AHEAD,
    _T.order_at >= bindparam("b_since"),
)
_LEFTOVERS = (
    select(tb.tickets)
    .where(_T.hall == bindparam("b_hall"), _T.business_date < bindparam("b_day"),
           _T.status.in_([TicketStatus.WAITING.value, TicketStatus.CALLED.value, TicketStatus.MISSED.value]))
    .order_by(_T.issued_at)
    .limit(bindparam("b_limit"))
)
_RECENT_FLAGS = (
    select(_T.priority_group)
    .where(_T.hall == bindparam("b_hall"), _T.category == bindparam("b_category"), _T.called_at.is_not(None),
           _T.appointment.is_(False))
    .order_by(_T.called_at.desc())
    .limit(bindparam("b_limit"))
)
_OPEN_TICKET_OF = (
    select(tb.tickets)
    .where(_T.hall == bindparam("b_hall"), _T.applicant_key == bindparam("b_key"),
           _T.business_date == bindparam("b_day"), _T.category == bindparam("b_category"),
           _T.status.in_([TicketStatus.WAITING.value, TicketStatus.CALLED.value, TicketStatus.SERVING.value]))
    .limit(1)
)
_ISSUED_COUNT = (
    select(func.count())
    .select_from(tb.tickets)
    .where(_T.hall == bindparam("b_hall"), _T.applicant_key == bindparam("b_key"),
           _T.business_date == bindparam("b_day"))
)
_DURATIONS = (
    select(_T.started_at, _T.finished_at)
    .where(_T.hall == bindparam("b_hall"), _T.category == bindparam("b_category"),
           _T.status == TicketStatus.DONE.value, _T.started_at.is_not(None))
    .order_by(_T.finished_at.desc())
    .limit(bindparam("b_limit"))
)


def _candidate(r: Any) -> Candidate:
    return Candidate(r.id, r.category, r.order_at, r.priority_group is not None, bool(r.appointment),
                     r.target_window, r.seq)


def _lane(t: Ticket) -> int:
    if t.appointment:
        return APPOINTMENT_LANE
    return PRIORITY_LANE if t.priority_group is not None else NORMAL_LANE


def _ticket_values(t: Ticket) -> dict[str, Any]:
    return {
        "status": t.status.value,
        "category": t.category,
        "lane": _lane(t),
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

    def __init__(self, conn: Connection, cache: TtlCache | None = None) -> None:
        self._conn = conn
        self._cache = cache

    def get(self, ticket_id: str) -> Ticket | None:
        """One ticket by id."""
        row = self._conn.execute(_GET_TICKET, {"b_id": ticket_id}).first()
        return ticket_from_row(row) if row else None

    def by_token(self, token: str) -> Ticket | None:
        """One ticket by its status-page token."""
        row = self._conn.execute(_GET_BY_TOKEN, {"b_token": token}).first()
        return ticket_from_row(row) if row else None

    def add(self, t: Ticket) -> None:
        """Insert a new ticket."""
        self._conn.execute(
            _INSERT_TICKET,
            {
                "id": t.id,
                "hall": t.hall,
                "number": t.number,
                "business_date": t.business_date,
                "seq": parse_number(t.number)[1],
                "channel": t.channel.value,
                "issued_at": t.issued_at,
                "item": t.item,
                "bundle": t.bundle,
                "priority_group": t.priority_group,
                "priority_reason": t.priority_reason,
                "priority_granted_by": t.priority_granted_by,
                "appointment": t.appointment,
                "applicant_key": t.applicant_key,
                "applicant_masked": t.applicant_masked,
                "matter_id": t.matter_id,
                "trip": t.trip,
                "token": t.token,
                **_ticket_values(t),
            },
        )

    def update(self, t: Ticket, expected_version: int) -> bool:
        """Write the ticket if its stored version is still `expected_version`."""
        params = {f"v_{k}": v for k, v in _ticket_values(t).items()}
        params.update(b_id=t.id, b_expected=expected_version)
        return self._conn.execute(_UPDATE_TICKET, params).rowcount == 1

    def waiting_candidates(
        self, hall: str, categories: Sequence[str], window: int, since: datetime
    ) -> list[Candidate]:
        """What dispatch chooses from: today's oldest waiting ticket of each kind of each
        category, and the oldest ticket transferred to this window (the rest are behind them)."""
        heads = [_candidate(r) for r in self._conn.execute(
            _TARGETED_HEAD, {"b_hall": hall, "b_window": window, "b_since": since})]
        for category in categories:
            for lane in (APPOINTMENT_LANE, PRIORITY_LANE, NORMAL_LANE):
                row = self._conn.execute(_LANE_HEAD, {"b_hall": hall, "b_category": category, "b_lane": lane,
                                                      "b_since": since}).first()
                if row is not None:
                    heads.append(_candidate(row))
        return heads

    def queue_counts(self, hall: str, category: str, ticket: Candidate, since: datetime) -> QueueCounts:
        """Counts of the category's waiting tickets of today by kind, in total and ahead of `ticket`."""
        by_lane = {r.lane: (int(r.ahead or 0), int(r.total)) for r in self._conn.execute(_QUEUE_COUNTS, {
            "b_hall": hall, "b_category": category, "b_order_at": ticket.order_at, "b_seq": ticket.seq,
            "b_id": ticket.ticket_id, "b_since": since,
        })}
        counts = [by_lane.get(lane, (0, 0)) for lane in (APPOINTMENT_LANE, PRIORITY_LANE, NORMAL_LANE)]
        return QueueCounts(*(v for pair in counts for v in pair))

    def targeted_ahead(self, hall: str, window: int, ticket: Candidate, since: datetime) -> int:
        """Today's tickets transferred to `window` that wait ahead of `ticket`."""
        return int(self._conn.execute(_TARGETED_AHEAD, {
            "b_hall": hall, "b_window": window, "b_order_at": ticket.order_at, "b_seq": ticket.seq,
            "b_id": ticket.ticket_id, "b_since": since,
        }).scalar_one())

    def leftovers(self, hall: str, before: date, limit: int) -> list[Ticket]:
        """Waiting, called or missed tickets of business days before `before`, oldest first."""
        rows = self._conn.execute(_LEFTOVERS, {"b_hall": hall, "b_day": before.isoformat(), "b_limit": limit})
        return [ticket_from_row(r) for r in rows]

    def recent_priority_flags(self, hall: str, category: str, limit: int) -> list[bool]:
        """Priority flags of the category's latest calls, newest first."""
        rows = self._conn.execute(_RECENT_FLAGS, {"b_hall": hall, "b_category": category, "b_limit": limit}).all()
        return [r.priority_group is not None for r in rows]

    def open_ticket_of(self, hall: str, applicant_key: str, category: str, business_date: date) -> Ticket | None:
        """The person's waiting, called or serving ticket of a category that day, if any."""
        row = self._conn.execute(_OPEN_TICKET_OF, {"b_hall": hall, "b_key": applicant_key, "b_category": category,
                                                   "b_day": business_date.isoformat()}).first()
        return ticket_from_row(row) if row else None

    def issued_count(self, hall: str, applicant_key: str, business_date: date) -> int:
        """Tickets the person got in the hall that day."""
        return int(self._conn.execute(
            _ISSUED_COUNT, {"b_hall": hall, "b_key": applicant_key, "b_day": business_date.isoformat()}
        ).scalar_one())

    def recent_service_durations(self, hall: str, category: str, limit: int) -> list[float]:
        """Durations (s) of the category's latest finished services (cached briefly: estimates only)."""
        def load() -> list[float]:
            rows = self._conn.execute(_DURATIONS, {"b_hall": hall, "b_category": category, "b_limit": limit})
            return [(r.finished_at - r.started_at).total_seconds() for r in rows]

        if self._cache is None:
            return load()
        return list(self._cache.get(("durations", hall, category, str(limit)), load))


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


_GET_WINDOW = select(tb.windows).where(_W.hall == bindparam("b_hall"), _W.number == bindparam("b_number"))
_LIST_WINDOWS = select(tb.windows).where(_W.hall == bindparam("b_hall")).order_by(_W.number)
# Categories as their JSON text: decoding every window's list costs more than the query.
_WINDOW_STATUSES = select(_W.status, cast(_W.categories, String).label("categories")).where(
    _W.hall == bindparam("b_hall"))
_UPDATE_WINDOW = (
    update(tb.windows)
    .where(_W.hall == bindparam("b_hall"), _W.number == bindparam("b_number"), _W.version == bindparam("b_expected"))
    .values({c: bindparam(f"v_{c}") for c in ("status", "pause_reason", "staff", "current_ticket", "status_since",
                                              "version")})
)


class SqlWindowRepository:
    """Windows' live state."""

    def __init__(self, conn: Connection, cache: TtlCache | None = None) -> None:
        self._conn = conn
        self._cache = cache
        self.changed_halls: set[str] = set()

    def get(self, hall: str, number: int) -> Window | None:
        """One window."""
        row = self._conn.execute(_GET_WINDOW, {"b_hall": hall, "b_number": number}).first()
        return window_from_row(row) if row else None

    def in_hall(self, hall: str) -> list[Window]:
        """All windows of a hall by number."""
        return [window_from_row(r) for r in self._conn.execute(_LIST_WINDOWS, {"b_hall": hall})]

    def statuses_serving(self, hall: str, category: str) -> list[WindowStatus]:
        """The status of every window serving the category."""
        def load() -> list[tuple[WindowStatus, str]]:
            return [(WindowStatus(r.status), r.categories)
                    for r in self._conn.execute(_WINDOW_STATUSES, {"b_hall": hall})]

        rows = load() if self._cache is None or hall in self.changed_halls else self._cache.get(
            ("window-statuses", hall), load)
        quoted = f'"{category}"'
        return [status for status, categories in rows if quoted in categories]

    def update(self, w: Window, expected_version: int) -> bool:
        """Write the window if its stored version is still `expected_version`."""
        self.changed_halls.add(w.hall)
        res = self._conn.execute(_UPDATE_WINDOW, {
            "b_hall": w.hall, "b_number": w.number, "b_expected": expected_version,
            "v_status": w.status.value, "v_pause_reason": w.pause_reason, "v_staff": w.staff,
            "v_current_ticket": w.current_ticket, "v_status_since": w.status_since, "v_version": w.version,
        })
        return res.rowcount == 1


_C = tb.ticket_counters.c
_BUMP_COUNTER = (
    update(tb.ticket_counters)
    .where(_C.hall == bindparam("b_hall"), _C.prefix == bindparam("b_prefix"), _C.business_date == bindparam("b_day"))
    .values(last_seq=_C.last_seq + 1)
    .returning(_C.last_seq)
)
_INSERT_COUNTER = insert(tb.ticket_counters)


class SqlCounterRepository:
    """Daily ticket sequences: one row per hall, prefix and day, bumped in the transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def next_seq(self, hall: str, prefix: str, business_date: date) -> int:
        """Take the next sequence number; the row lock serialises concurrent issuers."""
        key = {"b_hall": hall, "b_prefix": prefix, "b_day": business_date.isoformat()}
        row = self._conn.execute(_BUMP_COUNTER, key).first()
        if row is not None:
            return int(row.last_seq)
        try:
            with self._conn.begin_nested():
                self._conn.execute(_INSERT_COUNTER, {"hall": hall, "prefix": prefix,
                                                     "business_date": business_date.isoformat(), "last_seq": 1})
            return 1
        except IntegrityError:
            # Another transaction created the day's row first (PostgreSQL): bump it instead.
            return int(self._conn.execute(_BUMP_COUNTER, key).one().last_seq)


_E = tb.evaluations.c
_GET_EVALUATION = select(tb.evaluations).where(_E.id == bindparam("b_id"))
_EVALUATION_OF = select(tb.evaluations).where(_E.ticket_id == bindparam("b_ticket"))
_INSERT_EVALUATION = insert(tb.evaluations)
_UPDATE_EVALUATION = (
    update(tb.evaluations)
    .where(_E.id == bindparam("b_id"), _E.version == bindparam("b_expected"))
    .values({c: bindparam(f"v_{c}") for c in ("rectification", "rectification_note", "closed_by", "closed_at",
                                              "version")})
)
_UNRATED = (
    select(tb.tickets)
    .select_from(tb.tickets.outerjoin(tb.evaluations, _E.ticket_id == _T.id))
    .where(_T.hall == bindparam("b_hall"), _T.status == TicketStatus.DONE.value,
           _T.finished_at < bindparam("b_before"), _E.id.is_(None))
    .order_by(_T.finished_at)
    .limit(bindparam("b_limit"))
)


def evaluation_from_row(r: Any) -> Evaluation:
    """Map an evaluations row to the domain object."""
    return Evaluation(
        id=r.id, hall=r.hall, ticket_id=r.ticket_id, level=Level(r.level), channel=EvaluationChannel(r.channel),
        submitted_at=r.submitted_at, comment=r.comment, window=r.window, staff=r.staff,
        rectification=Rectification(r.rectification) if r.rectification else None,
        rectification_due=date.fromisoformat(r.rectification_due) if r.rectification_due else None,
        rectification_note=r.rectification_note, closed_by=r.closed_by, closed_at=r.closed_at, version=r.version,
    )


class SqlEvaluationRepository:
    """Evaluations; one per ticket (a unique key), updates conditional on the version."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, evaluation_id: str) -> Evaluation | None:
        """One evaluation by id."""
        row = self._conn.execute(_GET_EVALUATION, {"b_id": evaluation_id}).first()
        return evaluation_from_row(row) if row else None

    def for_ticket(self, ticket_id: str) -> Evaluation | None:
        """The evaluation of a ticket, if any."""
        row = self._conn.execute(_EVALUATION_OF, {"b_ticket": ticket_id}).first()
        return evaluation_from_row(row) if row else None

    def add(self, e: Evaluation) -> None:
        """Insert; DuplicateKey when the ticket was rated by a concurrent request."""
        try:
            with self._conn.begin_nested():
                self._conn.execute(_INSERT_EVALUATION, {
                    "id": e.id, "hall": e.hall, "ticket_id": e.ticket_id, "level": int(e.level),
                    "channel": e.channel.value, "comment": e.comment, "window": e.window, "staff": e.staff,
                    "submitted_at": e.submitted_at,
                    "rectification": e.rectification.value if e.rectification else None,
                    "rectification_due": e.rectification_due.isoformat() if e.rectification_due else None,
                    "rectification_note": e.rectification_note, "closed_by": e.closed_by,
                    "closed_at": e.closed_at, "version": e.version,
                })
        except IntegrityError:
            raise DuplicateKey(e.ticket_id)

    def update(self, e: Evaluation, expected_version: int) -> bool:
        """Write the rectification state if the version is still `expected_version`."""
        return self._conn.execute(_UPDATE_EVALUATION, {
            "b_id": e.id, "b_expected": expected_version,
            "v_rectification": e.rectification.value if e.rectification else None,
            "v_rectification_note": e.rectification_note, "v_closed_by": e.closed_by,
            "v_closed_at": e.closed_at, "v_version": e.version,
        }).rowcount == 1

    def unrated(self, hall: str, finished_before: datetime, limit: int) -> list[Ticket]:
        """Done tickets finished before the instant without an evaluation, oldest first."""
        rows = self._conn.execute(_UNRATED, {"b_hall": hall, "b_before": finished_before, "b_limit": limit})
        return [ticket_from_row(r) for r in rows]


_A = tb.appointments.c
_P = tb.slot_places.c
_GET_APPOINTMENT = select(tb.appointments).where(_A.id == bindparam("b_id"))
_APPOINTMENT_BY_CODE = select(tb.appointments).where(_A.code == bindparam("b_code"))
_APPOINTMENTS_OF = (
    select(tb.appointments)
    .where(_A.hall == bindparam("b_hall"), _A.applicant_key == bindparam("b_key"),
           _A.slot_start >= bindparam("b_since"), _A.slot_start < bindparam("b_until"))
    .order_by(_A.slot_start)
)
_INSERT_APPOINTMENT = insert(tb.appointments)
_UPDATE_APPOINTMENT = (
    update(tb.appointments)
    .where(_A.id == bindparam("b_id"), _A.version == bindparam("b_expected"))
    .values({c: bindparam(f"v_{c}") for c in ("status", "ticket_id", "checked_in_at", "version")})
)
_PLACE_KEY = (_P.hall == bindparam("b_hall"), _P.category == bindparam("b_category"),
              _P.slot_start == bindparam("b_start"))
# The condition in the UPDATE is what keeps a slot from being oversold: concurrent
# bookings queue on the row, and each re-reads `taken` before adding to it.
_TAKE_PLACE = update(tb.slot_places).where(*_PLACE_KEY, _P.taken < bindparam("b_capacity")).values(
    taken=_P.taken + 1)
_FREE_PLACE = update(tb.slot_places).where(*_PLACE_KEY, _P.taken > 0).values(taken=_P.taken - 1)
_PLACE_EXISTS = select(_P.taken).where(*_PLACE_KEY)
_INSERT_PLACE = insert(tb.slot_places)
_PLACES_TAKEN = select(_P.slot_start, _P.taken).where(
    _P.hall == bindparam("b_hall"), _P.category == bindparam("b_category"),
    _P.slot_start >= bindparam("b_since"), _P.slot_start < bindparam("b_until"))
_NO_SHOWS = select(_A.slot_start).where(
    _A.hall == bindparam("b_hall"), _A.applicant_key == bindparam("b_key"),
    _A.status == AppointmentStatus.NO_SHOW.value, _A.slot_start >= bindparam("b_since"))
_OVERDUE = (
    select(tb.appointments)
    .where(_A.hall == bindparam("b_hall"), _A.status == AppointmentStatus.BOOKED.value,
           _A.slot_end < bindparam("b_before"))
    .order_by(_A.slot_end)
    .limit(bindparam("b_limit"))
)


def appointment_from_row(r: Any) -> Appointment:
    """Map an appointments row to the domain object."""
    return Appointment(
        id=r.id, hall=r.hall, category=r.category, item=r.item, slot_start=r.slot_start, slot_end=r.slot_end,
        applicant_key=r.applicant_key, applicant_masked=r.applicant_masked, channel=r.channel, code=r.code,
        created_at=r.created_at, status=AppointmentStatus(r.status), ticket_id=r.ticket_id,
        checked_in_at=r.checked_in_at, version=r.version,
    )


class SqlAppointmentRepository:
    """Bookings, and places per slot taken by conditional updates."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, appointment_id: str) -> Appointment | None:
        """One booking by id."""
        row = self._conn.execute(_GET_APPOINTMENT, {"b_id": appointment_id}).first()
        return appointment_from_row(row) if row else None

    def by_code(self, code: str) -> Appointment | None:
        """One booking by its QR code."""
        row = self._conn.execute(_APPOINTMENT_BY_CODE, {"b_code": code}).first()
        return appointment_from_row(row) if row else None

    def of_person(self, hall: str, applicant_key: str, since: datetime, until: datetime) -> list[Appointment]:
        """A person's bookings with slots in [since, until)."""
        rows = self._conn.execute(_APPOINTMENTS_OF, {"b_hall": hall, "b_key": applicant_key, "b_since": since,
                                                     "b_until": until})
        return [appointment_from_row(r) for r in rows]

    def add(self, a: Appointment) -> None:
        """Insert a booking."""
        self._conn.execute(_INSERT_APPOINTMENT, {
            "id": a.id, "hall": a.hall, "category": a.category, "item": a.item, "slot_start": a.slot_start,
            "slot_end": a.slot_end, "applicant_key": a.applicant_key, "applicant_masked": a.applicant_masked,
            "channel": a.channel, "code": a.code, "status": a.status.value, "ticket_id": a.ticket_id,
            "created_at": a.created_at, "checked_in_at": a.checked_in_at, "version": a.version,
        })

    def update(self, a: Appointment, expected_version: int) -> bool:
        """Write status, ticket and check-in time if the version is still `expected_version`."""
        return self._conn.execute(_UPDATE_APPOINTMENT, {
            "b_id": a.id, "b_expected": expected_version, "v_status": a.status.value, "v_ticket_id": a.ticket_id,
            "v_checked_in_at": a.checked_in_at, "v_version": a.version,
        }).rowcount == 1

    def take_place(self, hall: str, category: str, slot_start: datetime, capacity: int) -> bool:
        """Take a place if fewer than `capacity` are taken."""
        key = {"b_hall": hall, "b_category": category, "b_start": slot_start}
        if self._conn.execute(_TAKE_PLACE, {**key, "b_capacity": capacity}).rowcount == 1:
            return True
        if self._conn.execute(_PLACE_EXISTS, key).first() is not None:
            return False  # full
        try:
            with self._conn.begin_nested():
                self._conn.execute(_INSERT_PLACE, {"hall": hall, "category": category, "slot_start": slot_start,
                                                   "taken": 1})
            return capacity >= 1
        except IntegrityError:
            # A concurrent booking created the slot's row first: take a place in it instead.
            return self._conn.execute(_TAKE_PLACE, {**key, "b_capacity": capacity}).rowcount == 1

    def free_place(self, hall: str, category: str, slot_start: datetime) -> None:
        """Give a place back."""
        self._conn.execute(_FREE_PLACE, {"b_hall": hall, "b_category": category, "b_start": slot_start})

    def places_taken(self, hall: str, category: str, since: datetime, until: datetime) -> dict[datetime, int]:
        """Places taken per slot start in [since, until)."""
        rows = self._conn.execute(_PLACES_TAKEN, {"b_hall": hall, "b_category": category, "b_since": since,
                                                  "b_until": until})
        return {r.slot_start: int(r.taken) for r in rows}

    def no_shows(self, hall: str, applicant_key: str, since: datetime) -> list[datetime]:
        """Slot starts of the person's no-shows since the instant."""
        return [r.slot_start for r in self._conn.execute(
            _NO_SHOWS, {"b_hall": hall, "b_key": applicant_key, "b_since": since})]

    def overdue(self, hall: str, before: datetime, limit: int) -> list[Appointment]:
        """Bookings still waiting for a check-in whose slot ended before the instant."""
        rows = self._conn.execute(_OVERDUE, {"b_hall": hall, "b_before": before, "b_limit": limit})
        return [appointment_from_row(r) for r in rows]


_AP = tb.applicants.c
_GET_APPLICANT = select(tb.applicants).where(_AP.key == bindparam("b_key"))
_SEEN_APPLICANT = update(tb.applicants).where(_AP.key == bindparam("b_key")).values(
    last_seen_at=bindparam("b_now"))
_INSERT_APPLICANT = insert(tb.applicants)
_INSERT_AUDIT = insert(tb.audit_log)


class SqlApplicantRepository:
    """People: keyed hash, the number sealed, the masked form; one row per person."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def remember(self, key: str, id_type: str, sealed: str, masked: str, now: datetime,
                 name_sealed: str | None = None, name_masked: str | None = None) -> None:
        """Insert a person seen for the first time; otherwise note the visit (and a newly read name)."""
        values: dict[str, Any] = {"b_key": key, "b_now": now}
        stmt = _SEEN_APPLICANT
        if name_sealed is not None:
            stmt = _SEEN_APPLICANT.values(name_sealed=bindparam("b_name_sealed"), name_masked=bindparam("b_name_masked"))
            values.update(b_name_sealed=name_sealed, b_name_masked=name_masked)
        if self._conn.execute(stmt, values).rowcount == 1:
            return
        try:
            with self._conn.begin_nested():
                self._conn.execute(_INSERT_APPLICANT, {"key": key, "id_type": id_type, "sealed": sealed,
                                                       "masked": masked, "name_sealed": name_sealed,
                                                       "name_masked": name_masked, "first_seen_at": now,
                                                       "last_seen_at": now})
        except IntegrityError:
            pass  # a concurrent request stored the same person first

    def get(self, key: str) -> StoredApplicant | None:
        """A stored person by keyed hash."""
        row = self._conn.execute(_GET_APPLICANT, {"b_key": key}).first()
        return StoredApplicant(row.key, row.id_type, row.sealed, row.masked, row.name_sealed,
                               row.name_masked) if row else None


class SqlAuditRepository:
    """The append-only audit log."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, e: AuditEntry) -> None:
        """Append an entry."""
        self._conn.execute(_INSERT_AUDIT, {"id": e.id, "hall": e.hall, "at": e.at, "actor": e.actor,
                                           "action": e.action, "subject": e.subject, "detail": e.detail})


_M = tb.matters.c
_OPEN_MATTER = select(tb.matters).where(
    _M.hall == bindparam("b_hall"), _M.applicant_key == bindparam("b_key"), _M.subject == bindparam("b_subject"),
    _M.status == MatterStatus.OPEN.value).order_by(_M.opened_at.desc()).limit(1)
_GET_MATTER = select(tb.matters).where(_M.id == bindparam("b_id"))
_INSERT_MATTER = insert(tb.matters)
_UPDATE_MATTER = (
    update(tb.matters)
    .where(_M.id == bindparam("b_id"), _M.version == bindparam("b_expected"))
    .values({c: bindparam(f"v_{c}") for c in ("status", "trips", "last_visit", "closed_at", "version")})
)


def matter_from_row(r: Any) -> Matter:
    """Map a matters row to the domain object."""
    return Matter(id=r.id, hall=r.hall, applicant_key=r.applicant_key, subject=r.subject, opened_at=r.opened_at,
                  last_visit=r.last_visit, trips=r.trips, status=MatterStatus(r.status), closed_at=r.closed_at,
                  version=r.version)


class SqlMatterRepository:
    """Matters and their trips."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def open_for(self, hall: str, applicant_key: str, subject: str) -> Matter | None:
        """The person's open matter about a subject, if any."""
        row = self._conn.execute(_OPEN_MATTER, {"b_hall": hall, "b_key": applicant_key, "b_subject": subject}).first()
        return matter_from_row(row) if row else None

    def get(self, matter_id: str) -> Matter | None:
        """One matter by id."""
        row = self._conn.execute(_GET_MATTER, {"b_id": matter_id}).first()
        return matter_from_row(row) if row else None

    def add(self, m: Matter) -> None:
        """Insert a matter."""
        self._conn.execute(_INSERT_MATTER, {
            "id": m.id, "hall": m.hall, "applicant_key": m.applicant_key, "subject": m.subject,
            "status": m.status.value, "trips": m.trips, "last_visit": m.last_visit, "opened_at": m.opened_at,
            "closed_at": m.closed_at, "version": m.version})

    def update(self, m: Matter, expected_version: int) -> bool:
        """Write if the version is still `expected_version`."""
        return self._conn.execute(_UPDATE_MATTER, {
            "b_id": m.id, "b_expected": expected_version, "v_status": m.status.value, "v_trips": m.trips,
            "v_last_visit": m.last_visit, "v_closed_at": m.closed_at, "v_version": m.version}).rowcount == 1


_I = tb.idempotency_keys.c
_GET_KEY = select(_I.fingerprint, _I.status, _I.body).where(_I.scope == bindparam("b_scope"), _I.key == bindparam("b_key"))
_INSERT_KEY = insert(tb.idempotency_keys)


class SqlIdempotencyRepository:
    """Responses remembered under Idempotency-Key, stored in the same transaction."""

    def __init__(self, conn: Connection, now: Any) -> None:
        self._conn = conn
        self._now = now

    def get(self, scope: str, key: str) -> StoredResponse | None:
        """The remembered response, if any."""
        row = self._conn.execute(_GET_KEY, {"b_scope": scope, "b_key": key}).first()
        return StoredResponse(row.fingerprint, row.status, row.body) if row else None

    def put(self, scope: str, key: str, response: StoredResponse) -> None:
        """Remember a response; DuplicateKey when a concurrent request stored it first."""
        try:
            with self._conn.begin_nested():
                self._conn.execute(_INSERT_KEY, {
                    "scope": scope, "key": key, "fingerprint": response.fingerprint, "status": response.status,
                    "body": response.body, "created_at": self._now(),
                })
        except IntegrityError:
            raise DuplicateKey(key)
