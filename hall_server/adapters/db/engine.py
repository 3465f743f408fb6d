"""Engines: SQLite in WAL mode by default (writers serialised), PostgreSQL by URL."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url


def normalize_url(url: str) -> str:
    """Pick our drivers: `postgresql://` means psycopg 3."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


class FairLock:
    """A FIFO lock: waiters get it in arrival order.

    threading.Lock lets a releasing thread take the lock straight back, so under load a
    few requests wait many turns; handing the lock to the oldest waiter keeps the tail
    latency near the mean.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._held = False

    def __enter__(self) -> FairLock:
        with self._mutex:
            if not self._held:
                self._held = True
                return self
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        turn.acquire()  # released by the holder when it is our turn; the lock passes to us held
        return self

    def __exit__(self, *exc: object) -> None:
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False


@dataclass
class Database:
    """A write engine, a read engine, and (on SQLite) the in-process writer lock.

    SQLite allows one writer at a time. Write transactions start with BEGIN IMMEDIATE
    so a reader never has to upgrade its lock mid-transaction (which fails at once with
    "database is locked" in WAL mode), and writers of this process queue on a lock
    instead of in SQLite's busy handler, whose sleeps would add tens of milliseconds to
    the tail latency. Other processes still wait on busy_timeout.
    """

    url: str
    write: Engine
    read: Engine
    is_sqlite: bool
    lock_path: str | None = None
    _lock: FairLock = field(default_factory=FairLock)
    _lock_fd: int | None = None

    @contextlib.contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Serialise writers on SQLite: threads on a lock, processes on a file lock; no-op elsewhere.

        The file lock (flock) queues writers of other processes in the kernel instead of
        in SQLite's busy handler, which polls with sleeps of up to 100 ms.
        """
        if not self.is_sqlite:
            yield
            return
        with self._lock:
            if self.lock_path is None:
                yield
                return
            if self._lock_fd is None:
                self._lock_fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def dispose(self) -> None:
        """Close every pooled connection and the lock file."""
        self.write.dispose()
        self.read.dispose()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def _sqlite_engine(url: str, *, immediate: bool, pool_size: int, max_overflow: int | None = None) -> Engine:
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size * 2 if max_overflow is None else max_overflow,
        pool_timeout=60,
        connect_args={"check_same_thread": False, "timeout": 30},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module (we emit BEGIN ourselves).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def open_database(url: str, *, pool_size: int = 16) -> Database:
    """Create the engines for a database URL."""
    url = normalize_url(url)
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database in (None, "", ":memory:"):
            raise ValueError("an in-memory SQLite database cannot be shared; use a file")
        return Database(
            url,
            # One write connection: writers are serialised anyway, and a connection that
            # wrote last keeps its page cache (another connection would have to reload it).
            write=_sqlite_engine(url, immediate=True, pool_size=1, max_overflow=0),
            read=_sqlite_engine(url, immediate=False, pool_size=pool_size),
            is_sqlite=True,
            lock_path=f"{u.database}.writer-lock",
        )
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True)
    return Database(url, write=engine, read=engine, is_sqlite=False)
