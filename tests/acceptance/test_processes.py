"""Several server processes on one database: still no ticket called twice, none lost."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.acceptance.conftest import hall_env, onedoor, start_server
from tests.conftest import postgres_url

HALL = "fumin"
TICKETS = 150
CALLERS = 16


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_server_processes_never_call_one_ticket_twice(
    tmp_path: Path, backend: str, make_db_url: Callable[[str], str]
) -> None:
    if backend == "postgres" and postgres_url() is None:
        pytest.skip("PostgreSQL tests need ONEDOOR_TEST_POSTGRES_URL")
    env = hall_env(tmp_path, ONEDOOR_WORKERS="2", ONEDOOR_THREADS="16",
                   **({"ONEDOOR_DATABASE_URL": make_db_url("postgres")} if backend == "postgres" else {}))
    assert onedoor(env, "init").returncode == 0
    assert onedoor(env, "user", "add", "boss", "--role", "manager", "--hall", HALL,
                   stdin="manager-pass-1\n").returncode == 0
    kiosk = onedoor(env, "device", "add", "--hall", HALL, "--kind", "kiosk").stdout.strip()
    server = start_server(env, tmp_path / "serve.log")
    try:
        s = requests.Session()
        token = s.post(server.url("/auth/login"), json={"username": "boss", "password": "manager-pass-1"},
                       timeout=10).json()["token"]
        boss = {"Authorization": f"Bearer {token}"}
        windows = s.get(server.url(f"/halls/{HALL}/windows"), headers=boss, timeout=10).json()
        for w in windows:
            assert s.post(server.url(f"/halls/{HALL}/windows/{w['number']}/open"), headers=boss,
                          timeout=10).status_code == 200
        categories = sorted({c for w in windows for c in w["categories"]})
        issued = [s.post(server.url(f"/halls/{HALL}/tickets"), headers={"Authorization": f"Bearer {kiosk}"},
                         json={"category": categories[i % len(categories)], "channel": "kiosk"},
                         timeout=10).json()["id"] for i in range(TICKETS)]

        served: Counter[str] = Counter()
        errors: list[str] = []
        lock = threading.Lock()

        def caller(number: int) -> None:
            session = requests.Session()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with lock:
                    if sum(served.values()) >= TICKETS:
                        return
                r = session.post(server.url(f"/halls/{HALL}/windows/{number}/call-next"), headers=boss, timeout=30)
                if r.status_code == 204:
                    time.sleep(0.01)
                    continue
                if r.status_code == 409 and r.json()["code"] in ("window_busy", "concurrent_update"):
                    continue
                if r.status_code != 200:
                    errors.append(r.text)
                    return
                tid = r.json()["ticket"]["id"]
                for move, body in (("start", None), ("finish", {"outcome": "completed"})):
                    m = session.post(server.url(f"/tickets/{tid}/{move}"), headers=boss, json=body, timeout=30)
                    if m.status_code != 200:
                        errors.append(m.text)
                        return
                with lock:
                    served[tid] += 1

        numbers = [w["number"] for w in windows]
        threads = [threading.Thread(target=caller, args=(numbers[i % len(numbers)],)) for i in range(CALLERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=180)
        assert not errors, errors[:3]
        assert set(served) == set(issued) and max(served.values()) == 1
        events = s.get(server.url(f"/halls/{HALL}/events"), params={"after": 0, "limit": 1000}, headers=boss,
                       timeout=10).json()
        called = Counter(e["data"]["ticket"]["id"] for e in events if e["type"] == "ticket.called")
        assert set(called) == set(issued) and max(called.values()) == 1
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    finally:
        assert server.stop() == 0
