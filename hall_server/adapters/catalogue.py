"""The service catalogue (事项目录) as managers edit it: items through the API, import and export.

The catalogue lives in the hall's stored configuration, so every change goes through the
same validation as a configuration file (the 12 elements, types, categories, codes) and
bumps the hall's config_version, which every process notices. Each change is one
transaction with its `catalogue.updated` event, so kiosks and the platform (同源) learn
of it in order with everything else.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from hall_server.adapters.db import tables as tb
from hall_server.adapters.db.engine import Database
from hall_server.adapters.db.repositories import ConfigCache
from hall_server.adapters.db.uow import store_events
from hall_server.adapters.hall_config import HallConfigError, dump_hall_config, parse_hall_config
from hall_server.domain.errors import InvalidInput, NotFound
from hall_server.domain.events import CatalogueUpdated
from hall_server.services.ports import LivePublisher


class CatalogueService:
    """Read and change a hall's service items."""

    def __init__(self, db: Database, cache: ConfigCache, now: Callable[[], datetime], live: LivePublisher) -> None:
        self._db = db
        self._cache = cache
        self._now = now
        self._live = live

    def export(self, hall: str) -> dict[str, Any]:
        """The catalogue as JSON: `{"hall", "version", "items": [...]}` in the configuration's item schema."""
        with self._db.read.connect() as conn:
            row = conn.execute(select(tb.halls.c.config, tb.halls.c.config_version)
                               .where(tb.halls.c.code == hall)).first()
        if row is None:
            raise NotFound(f"没有编号为 {hall} 的大厅。No hall with code '{hall}'.")
        return {"hall": hall, "version": row.config_version, "items": row.config["items"],
                "bundles": row.config.get("bundles", [])}

    def replace_items(self, hall: str, items: list[Any], by: str,
                      bundles: list[Any] | None = None) -> dict[str, Any]:
        """Replace the whole catalogue (an import, bundles too when given): all or nothing."""

        def change(doc: dict[str, Any]) -> list[Any]:
            if bundles is not None:
                doc["bundles"] = bundles
            return items

        return self._change(hall, by, "import", change)

    def put_item(self, hall: str, code: str, item: dict[str, Any], by: str) -> dict[str, Any]:
        """Add or replace one item."""
        if item.get("code", code) != code:
            raise InvalidInput("请求体中的 code 与地址不一致。The body's code differs from the one in the path.")
        item = {**item, "code": code}

        def change(doc: dict[str, Any]) -> list[Any]:
            others = [i for i in doc["items"] if i.get("code") != code]
            return [*others, item]

        return self._change(hall, by, f"put {code}", change)

    def delete_item(self, hall: str, code: str, by: str) -> dict[str, Any]:
        """Remove one item (tickets that named it keep its code)."""

        def change(doc: dict[str, Any]) -> list[Any]:
            kept = [i for i in doc["items"] if i.get("code") != code]
            if len(kept) == len(doc["items"]):
                raise NotFound(f"没有编码为 {code} 的事项。No service item '{code}'.")
            return kept

        return self._change(hall, by, f"delete {code}", change)

    def _change(self, hall: str, by: str, what: str, change: Callable[[dict[str, Any]], list[Any]]) -> dict[str, Any]:
        h = tb.halls.c
        now = self._now()
        with self._db.writer_lock(), self._db.write.begin() as conn:
            row = conn.execute(select(h.config, h.config_version).where(h.code == hall)).first()
            if row is None:
                raise NotFound(f"没有编号为 {hall} 的大厅。No hall with code '{hall}'.")
            doc = copy.deepcopy(row.config)
            doc["items"] = change(doc)
            try:
                cfg = parse_hall_config(doc, source=f"catalogue of {hall}")
            except HallConfigError as e:
                raise InvalidInput(f"事项目录有误：{e.key}: {e.problem}。The catalogue is invalid: {e.key}: {e.problem}",
                                   extra={"key": e.key})
            version = row.config_version + 1
            conn.execute(update(tb.halls).where(h.code == hall)
                         .values(config=dump_hall_config(cfg), config_version=version, updated_at=now))
            envelopes = store_events(conn, [CatalogueUpdated(hall, now, {
                "version": version, "items": len(cfg.items), "change": what, "by": by})], now, lambda _: cfg.tz)
        self._cache.forget(hall)
        self._live.publish(envelopes)
        return {"hall": hall, "version": version, "items": len(cfg.items)}
