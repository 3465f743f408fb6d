"""Run the hall server the way production does: gunicorn, one worker, many threads."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from hall_server.settings import Settings


class HallServer(BaseApplication):
    """gunicorn with the gthread worker.

    One worker process holds the live Socket.IO connections (Flask-SocketIO's threading
    mode needs one process per set of connections unless a message queue joins several);
    its threads serve HTTP concurrently. Scale out with more processes behind a sticky
    proxy, PostgreSQL and ONEDOOR_MESSAGE_QUEUE (DESIGN.md, "Scale out").
    """

    def __init__(self, settings: Settings, *, workers: int | None = None, access_log: bool = False) -> None:
        self._settings = settings
        self._options = {
            "bind": f"{settings.host}:{settings.port}",
            "workers": workers or settings.workers,
            "worker_class": "gthread",
            "threads": settings.threads,
            "timeout": 60,
            "graceful_timeout": 10,
            "keepalive": 30,
            "accesslog": "-" if access_log else None,
            "errorlog": "-",
            "loglevel": settings.log_level.lower(),
            "proc_name": "onedoor",
            # Several halls (and test servers) run side by side: no shared control socket.
            "control_socket_disable": True,
        }
        super().__init__()

    def load_config(self) -> None:
        """Hand our options to gunicorn."""
        for key, value in self._options.items():
            if value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        """Build the app inside the worker (after fork: no engine crosses a fork)."""
        from hall_server.web import create_app

        app = create_app(self._settings)
        # Tickets left from an earlier day are cancelled at start and every minute after.
        app.extensions["onedoor"].start_housekeeping()
        return app
