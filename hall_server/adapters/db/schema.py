"""Create or migrate the database (Alembic) and load hall configurations into it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import insert, select, update

from hall_server.adapters.db import tables as tb
from hall_server.adapters.db.engine import Database
from hall_server.adapters.hall_config import dump_hall_config
from hall_server.domain.hall import HallConfig
from hall_server.domain.windows import WindowStatus

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(db: Database) -> Config:
    """An Alembic configuration pointing at our migrations and the database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def upgrade(db: Database) -> None:
    """Bring the schema to the newest revision (creates it on an empty database)."""
    cfg = alembic_config(db)
    with db.writer_lock(), db.write.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        if conn.in_transaction():
            conn.commit()


def load_hall(db: Database, cfg: HallConfig, now: datetime) -> dict[str, int]:
    """Store a hall's configuration; add new windows and update configured ones.

    Live state (open/paused, staff, current ticket) of existing windows is kept. A window
    that disappeared from the file is kept too (its history refers to it) but closed if
    idle; returns counts for the CLI to report.
    """
    doc = dump_hall_config(cfg)
    h, w = tb.halls.c, tb.windows.c
    added = updated = closed = 0
    with db.writer_lock(), db.write.begin() as conn:
        existing = conn.execute(select(h.config_version).where(h.code == cfg.code)).scalar_one_or_none()
        values = {"name": cfg.name, "level": cfg.level.value, "timezone": cfg.timezone, "config": doc,
                  "updated_at": now}
        if existing is None:
            conn.execute(insert(tb.halls).values(code=cfg.code, config_version=1, **values))
            conn.execute(insert(tb.hall_sequences).values(hall=cfg.code, last_seq=0))
        else:
            conn.execute(update(tb.halls).where(h.code == cfg.code)
                         .values(config_version=existing + 1, **values))
        present = {r.number: r for r in conn.execute(select(tb.windows).where(w.hall == cfg.code)).all()}
        for win in cfg.windows:
            if win.number in present:
                conn.execute(update(tb.windows).where(w.hall == cfg.code, w.number == win.number)
                             .values(name=win.name, categories=list(win.categories), version=w.version + 1))
                updated += 1
            else:
                conn.execute(insert(tb.windows).values(
                    hall=cfg.code, number=win.number, name=win.name, categories=list(win.categories),
                    status=WindowStatus.CLOSED.value, version=0, status_since=now))
                added += 1
        configured = {win.number for win in cfg.windows}
        for number, row in present.items():
            if number not in configured and row.current_ticket is None and row.status != "closed":
                conn.execute(update(tb.windows).where(w.hall == cfg.code, w.number == number)
                             .values(status="closed", staff=None, status_since=now, version=w.version + 1))
                closed += 1
    return {"windows_added": added, "windows_updated": updated, "windows_closed": closed}
