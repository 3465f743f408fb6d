"""Composition root: settings -> a container of the bus, views, auth and live publisher."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hall_server.adapters.auth import AuthService, LoginPolicy
from hall_server.adapters.catalogue import CatalogueService
from hall_server.adapters.db.engine import Database, open_database
from hall_server.adapters.db.repositories import ConfigCache, TtlCache
from hall_server.adapters.db.schema import load_hall, upgrade
from hall_server.adapters.db.uow import SqlUnitOfWork
from hall_server.adapters.db.views import HallViews
from hall_server.adapters.hall_config import default_config_path, load_hall_config
from hall_server.adapters.live import SocketIOPublisher
from hall_server.adapters.vault import AesGcmVault
from hall_server.domain.actors import SYSTEM
from hall_server.domain.commands import ApplyDefaultEvaluations, CloseAppointmentDay, CloseDay
from hall_server.domain.hall import HallConfig
from hall_server.services.bus import MessageBus
from hall_server.services.handlers import HandlerContext
from hall_server.services.ports import Clock, LivePublisher, NullLivePublisher, SystemClock
from hall_server.settings import Settings

log = logging.getLogger(__name__)


class ForwardingPublisher:
    """A LivePublisher whose target is plugged in later (the web app's Socket.IO server)."""

    def __init__(self) -> None:
        self.target: LivePublisher = NullLivePublisher()

    def publish(self, envelopes: Any) -> None:
        """Forward to the current target."""
        self.target.publish(envelopes)


@dataclass
class Container:
    """Everything a process of the hall server uses, built once."""

    settings: Settings
    db: Database
    clock: Clock
    bus: MessageBus
    views: HallViews
    auth: AuthService
    live: ForwardingPublisher
    config_cache: ConfigCache
    read_cache: TtlCache
    catalogue: CatalogueService
    _stopping: threading.Event = field(default_factory=threading.Event)

    def init_database(self, config_path: Path | None = None) -> dict[str, Any]:
        """Create or migrate the schema and load a hall configuration (default: the example hall)."""
        path = config_path or default_config_path()
        cfg: HallConfig = load_hall_config(path)
        upgrade(self.db)
        counts = load_hall(self.db, cfg, self.clock.now())
        self.config_cache.forget(cfg.code)
        self.read_cache.forget_hall(cfg.code)
        return {"hall": cfg.code, "name": cfg.name, "path": str(path), "categories": len(cfg.categories),
                "windows": len(cfg.windows), "items": len(cfg.items), **counts}

    def attach_socketio(self, socketio: Any) -> None:
        """Send committed events to Socket.IO clients of the /hall namespace from now on."""
        self.live.target = SocketIOPublisher(socketio)

    def close_days(self) -> int:
        """Cancel every hall's tickets left over from earlier business days; return how many."""
        return self._for_every_hall(CloseDay)

    def apply_default_evaluations(self) -> int:
        """Rate 基本满意 the served tickets left unrated past each hall's working days."""
        return self._for_every_hall(ApplyDefaultEvaluations)

    def close_appointment_days(self) -> int:
        """Bookings of ended days that never checked in become no-shows."""
        return self._for_every_hall(CloseAppointmentDay)

    def _for_every_hall(self, command: type[CloseDay | ApplyDefaultEvaluations | CloseAppointmentDay]) -> int:
        total = 0
        for hall in self.views.halls():
            while (n := self.bus.handle(command(SYSTEM, hall["code"]))) > 0:
                total += n
        return total

    def start_housekeeping(self, interval_s: float = 60.0) -> threading.Thread:
        """Run `close_days` now and then every `interval_s` in a daemon thread of this process."""

        def loop() -> None:
            while not self._stopping.is_set():
                try:
                    if n := self.close_days():
                        log.info("closed the day of %d leftover tickets", n)
                    if n := self.close_appointment_days():
                        log.info("marked %d unchecked bookings as no-shows", n)
                    if n := self.apply_default_evaluations():
                        log.info("rated %d unrated services 基本满意 by default", n)
                except Exception:  # a failed round is retried at the next one
                    log.exception("housekeeping round failed")
                self._stopping.wait(interval_s)

        thread = threading.Thread(target=loop, name="onedoor-housekeeping", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        """Stop housekeeping and release database connections."""
        self._stopping.set()
        self.db.dispose()


def bootstrap(settings: Settings, *, clock: Clock | None = None, live: LivePublisher | None = None) -> Container:
    """Build the container for one process."""
    clock = clock or SystemClock()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = open_database(settings.database_url, pool_size=min(max(settings.threads // 2, 8), 64))
    cache = ConfigCache()
    reads = TtlCache(ttl_s=1.0)
    forwarding = ForwardingPublisher()
    if live is not None:
        forwarding.target = live
    context = HandlerContext(
        now=clock.now,
        applicant_secret=settings.secret_key,
        always_open=settings.always_open,
        status_url_base=settings.status_url_base,
        vault=AesGcmVault(settings.secret_key),
    )
    bus = MessageBus(lambda: SqlUnitOfWork(db, cache, clock.now, reads), context, forwarding)
    views = HallViews(db, cache, context, clock.now, reads)
    auth = AuthService(db, clock.now, LoginPolicy(token_ttl_s=settings.token_ttl_s, password_method=settings.password_hash))
    return Container(settings=settings, db=db, clock=clock, bus=bus, views=views, auth=auth, live=forwarding,
                     config_cache=cache, read_cache=reads,
                     catalogue=CatalogueService(db, cache, clock.now, forwarding))
