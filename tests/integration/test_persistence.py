"""The schema and the stored history: migrations match the tables, numbers reset at local midnight."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.command import downgrade
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from hall_server.adapters.db import tables as tb
from hall_server.adapters.db.schema import alembic_config, upgrade
from hall_server.bootstrap import bootstrap
from hall_server.domain import commands as c
from hall_server.domain.actors import Actor, Role
from tests.conftest import make_settings
from tests.fakes import FakeClock
from tests.integration.conftest import HALL


def test_migrations_build_exactly_the_tables_the_code_uses(
    tmp_path: Path, make_db_url: Callable[[str], str], backend: str
) -> None:
    container = bootstrap(make_settings(tmp_path, make_db_url(backend)))
    try:
        upgrade(container.db)
        with container.db.write.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), tb.metadata)
        assert diff == []
    finally:
        container.close()


def test_migrations_downgrade_to_nothing_and_upgrade_again(
    tmp_path: Path, make_db_url: Callable[[str], str], backend: str
) -> None:
    container = bootstrap(make_settings(tmp_path, make_db_url(backend)))
    try:
        upgrade(container.db)
        cfg = alembic_config(container.db)
        with container.db.writer_lock(), container.db.write.connect() as conn:
            cfg.attributes["connection"] = conn
            downgrade(cfg, "base")
            conn.commit()
        with container.db.read.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        upgrade(container.db)
        with container.db.read.connect() as conn:
            assert {t.name for t in tb.metadata.sorted_tables} <= set(inspect(conn).get_table_names())
    finally:
        container.close()


def test_numbers_restart_at_local_midnight_and_yesterdays_stay(
    tmp_path: Path, make_db_url: Callable[[str], str], backend: str
) -> None:
    # 15:59 UTC is 23:59 in Asia/Shanghai; two minutes later it is the next business day.
    clock = FakeClock(datetime(2026, 11, 30, 15, 59, tzinfo=UTC))
    container = bootstrap(make_settings(tmp_path, make_db_url(backend)), clock=clock)
    try:
        container.init_database()
        admin = Actor("admin", Role.ADMIN)
        window = next(w.number for w in container.views.hall_config(HALL).windows if w.categories[0] == "A")
        container.bus.handle(c.OpenWindow(admin, HALL, window))
        before = [container.bus.handle(c.IssueTicket(admin, HALL, "kiosk", category="A"))["number"]
                  for _ in range(2)]
        clock.advance(120)
        after = [container.bus.handle(c.IssueTicket(admin, HALL, "kiosk", category="A"))["number"]
                 for _ in range(2)]
        assert before == ["A001", "A002"] and after == ["A001", "A002"]
        with container.db.read.connect() as conn:
            rows = conn.execute(select(tb.tickets.c.business_date, tb.tickets.c.number)
                                .order_by(tb.tickets.c.issued_at)).all()
        assert [(r.business_date, r.number) for r in rows] == [
            ("2026-11-30", "A001"), ("2026-11-30", "A002"), ("2026-12-01", "A001"), ("2026-12-01", "A002")]
    finally:
        container.close()


def test_tickets_left_from_yesterday_are_never_called_and_are_closed_with_an_event(
    tmp_path: Path, make_db_url: Callable[[str], str], backend: str
) -> None:
    clock = FakeClock(datetime(2026, 11, 30, 8, 0, tzinfo=UTC))  # 16:00 in Asia/Shanghai
    container = bootstrap(make_settings(tmp_path, make_db_url(backend)), clock=clock)
    try:
        container.init_database()
        admin = Actor("admin", Role.ADMIN)
        window = next(w.number for w in container.views.hall_config(HALL).windows if w.categories[0] == "A")
        container.bus.handle(c.OpenWindow(admin, HALL, window))
        left = container.bus.handle(c.IssueTicket(admin, HALL, "kiosk", category="A"))
        called = container.bus.handle(c.IssueTicket(admin, HALL, "kiosk", category="A"))
        assert container.bus.handle(c.CallNext(admin, HALL, window))["id"] == left["id"]
        container.bus.handle(c.MarkNoShow(admin, left["id"]))
        container.bus.handle(c.CallNext(admin, HALL, window))  # `called` is at the window overnight
        stay = container.bus.handle(c.IssueTicket(admin, HALL, "kiosk", category="A"))

        clock.advance(24 * 3600)  # the next morning
        assert container.views.ticket(stay["id"])[1]["position"] is None
        fresh = container.bus.handle(c.IssueTicket(admin, HALL, "kiosk", category="A"))
        assert fresh["number"] == "A001" and fresh["position"] == 1
        assert next(q for q in container.views.queue(HALL)["categories"] if q["code"] == "A")["waiting"] == 1
        assert container.views.queue(HALL)["recent_calls"] == []

        assert container.close_days() == 3  # missed, called and waiting from yesterday
        assert container.close_days() == 0
        for t in (left, called, stay):
            assert container.views.ticket(t["id"])[1]["status"] == "cancelled"
        closed = [e for e in container.views.events_after(HALL, 0, 1000)
                  if e["type"] == "ticket.cancelled" and e["data"].get("reason") == "day_closed"]
        assert {e["data"]["ticket"]["id"] for e in closed} == {left["id"], called["id"], stay["id"]}
        # the window that held yesterday's called ticket is free again, and calls today's
        got = container.bus.handle(c.CallNext(admin, HALL, window))
        assert got["id"] == fresh["id"]
    finally:
        container.close()
