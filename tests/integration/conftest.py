"""Fixtures of the integration tests: a bootstrapped container and a Flask test client."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from hall_server.bootstrap import Container, bootstrap
from hall_server.web import create_app
from tests.conftest import make_settings

HALL = "fumin"
PASSWORD = "correct-horse-42"


class MiddayClock:
    """Real time, moved to today's 11:00 in the hall's zone: no test straddles local midnight.

    Dispatch and queues read only the business day's tickets, so a test that ran across
    midnight would see its own tickets vanish; this clock keeps every test mid-morning.
    """

    def __init__(self) -> None:
        tz = ZoneInfo("Asia/Shanghai")
        today = datetime.now(tz).date()
        self._base = datetime(today.year, today.month, today.day, 11, tzinfo=tz).astimezone(UTC)
        self._start = time.monotonic()

    def now(self) -> datetime:
        """The shifted instant (aware, UTC)."""
        return self._base + timedelta(seconds=time.monotonic() - self._start)


@pytest.fixture
def container(tmp_path: Path, make_db_url: Callable[[str], str], backend: str) -> Iterator[Container]:
    """A hall server container on a fresh database with the example hall loaded."""
    c = bootstrap(make_settings(tmp_path, make_db_url(backend)), clock=MiddayClock())
    c.init_database()
    yield c
    c.close()


@dataclass
class Api:
    """A Flask test client that remembers tokens by name."""

    client: FlaskClient
    container: Container
    tokens: dict[str, str]

    def call(self, method: str, path: str, who: str | None = None, json: Any = None,
             headers: dict[str, str] | None = None) -> Any:
        """Make a request as `who` (a token name) and return the response."""
        h = dict(headers or {})
        if who is not None:
            h["Authorization"] = f"Bearer {self.tokens[who]}"
        return self.client.open(f"/api/v1{path}", method=method, json=json, headers=h)

    def login(self, username: str, password: str = PASSWORD) -> str:
        """Log in and remember the token under the user name."""
        r = self.call("POST", "/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.get_json()
        self.tokens[username] = r.get_json()["token"]
        return self.tokens[username]


@pytest.fixture
def api(container: Container) -> Api:
    """The API with people and devices: admin, manager, staff1 (window 1), staff (unbound), kiosk, board."""
    auth = container.auth
    auth.add_user("admin", PASSWORD, "admin")
    auth.add_user("manager", PASSWORD, "manager", HALL)
    auth.add_user("staff1", PASSWORD, "staff", HALL, 1)
    auth.add_user("staff2", PASSWORD, "staff", HALL, 2)
    auth.add_user("floater", PASSWORD, "staff", HALL)
    app = create_app(container=container)
    a = Api(app.test_client(), container, {})
    for name in ("admin", "manager", "staff1", "staff2", "floater"):
        a.login(name)
    a.tokens["kiosk"] = auth.add_device(HALL, "kiosk", "test-kiosk")[1]
    a.tokens["board"] = auth.add_device(HALL, "board", "test-board")[1]
    return a
