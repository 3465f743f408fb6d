"""API.md walked against a real `onedoor serve` process set up with the real CLI."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.acceptance.conftest import ServerProcess, hall_env, onedoor, start_server
from tests.fakes import id_number

HALL = "fumin"


@dataclass
class Server:
    """A running hall server and the credentials made for it."""

    process: ServerProcess
    kiosk: str
    board: str
    env: dict[str, str]

    def url(self, path: str) -> str:
        return self.process.url(path)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("hall")
    env = hall_env(data)
    r = onedoor(env, "init")
    assert r.returncode == 0, r.stderr
    assert "fumin" in r.stdout
    assert onedoor(env, "user", "add", "mgr", "--role", "manager", "--hall", HALL,
                   stdin="manager-pass-1\n").returncode == 0
    assert onedoor(env, "user", "add", "li", "--role", "staff", "--hall", HALL, "--window", "1",
                   stdin="staff-pass-123\n").returncode == 0
    refused = onedoor(env, "user", "add", "x", "--role", "staff", "--hall", "nowhere", stdin="long-enough-1\n")
    assert refused.returncode != 0 and "nowhere" in refused.stderr
    kiosk = onedoor(env, "device", "add", "--hall", HALL, "--kind", "kiosk")
    board = onedoor(env, "device", "add", "--hall", HALL, "--kind", "board")
    assert kiosk.returncode == 0 and board.returncode == 0
    process = start_server(env, data / "serve.log")
    yield Server(process, kiosk.stdout.strip(), board.stdout.strip(), env)
    assert process.stop() == 0


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ok(r: requests.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def refused(r: requests.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")
    body = r.json()
    assert {"type", "title", "status", "detail", "code"} <= set(body) and body["code"] == code


def test_api_md_walk(server: Server) -> None:
    u = server.url
    # Auth
    refused(requests.post(u("/auth/login"), json={"username": "mgr", "password": "nope-nope"}, timeout=5),
            401, "bad_credentials")
    login = ok(requests.post(u("/auth/login"), json={"username": "mgr", "password": "manager-pass-1"}, timeout=5))
    assert login["user"] == {"username": "mgr", "role": "manager", "hall": HALL, "window": None}
    mgr = auth(login["token"])
    staff = auth(ok(requests.post(u("/auth/login"), json={"username": "li", "password": "staff-pass-123"},
                                  timeout=5))["token"])
    kiosk, board = auth(server.kiosk), auth(server.board)

    # Halls and configuration
    halls = ok(requests.get(u("/halls"), timeout=5))
    assert {"code": HALL, "level": "county", "timezone": "Asia/Shanghai"}.items() <= halls[0].items()
    cats = ok(requests.get(u(f"/halls/{HALL}/categories"), timeout=5))
    assert {c["code"] for c in cats} >= {"A", "B", "C", "D", "E", "F"}
    items = ok(requests.get(u(f"/halls/{HALL}/items"), params={"q": "登记"}, timeout=5))
    assert items and all("登记" in i["name"] or "登记" in i["code"] for i in items)
    windows = ok(requests.get(u(f"/halls/{HALL}/windows"), headers=board, timeout=5))
    assert {w["status"] for w in windows} == {"closed"}
    w1 = windows[0]
    assert w1["number"] == 1
    cat = w1["categories"][0]

    # Windows: staff opens their own window; opening twice is a no-op
    assert ok(requests.post(u(f"/halls/{HALL}/windows/1/open"), headers=staff, timeout=5))["status"] == "open"
    ok(requests.post(u(f"/halls/{HALL}/windows/1/open"), headers=staff, timeout=5))
    refused(requests.post(u(f"/halls/{HALL}/windows/2/open"), headers=staff, timeout=5), 403, "forbidden")
    refused(requests.post(u(f"/halls/{HALL}/tickets"), json={"category": cat, "channel": "kiosk"}, timeout=5),
            401, "unauthenticated")

    # Tickets
    person = {"id_type": "resident_id", "id_number": id_number()}
    key = {"Idempotency-Key": "walk-1"}
    t1 = ok(requests.post(u(f"/halls/{HALL}/tickets"), headers={**kiosk, **key},
                          json={"category": cat, "channel": "kiosk", "applicant": person}, timeout=5), 201)
    again = ok(requests.post(u(f"/halls/{HALL}/tickets"), headers={**kiosk, **key},
                             json={"category": cat, "channel": "kiosk", "applicant": person}, timeout=5), 201)
    assert again == t1 and t1["number"] == f"{cat}001" and t1["status"] == "waiting" and t1["position"] == 1
    assert person["id_number"] not in str(t1)
    t2 = ok(requests.post(u(f"/halls/{HALL}/tickets"), headers=kiosk,
                          json={"category": cat, "channel": "kiosk", "priority_group": "elderly"}, timeout=5), 201)
    assert t2["number"] == f"{cat}002"
    bad = {"id_type": "resident_id", "id_number": person["id_number"][:17] + ("1" if person["id_number"][17] != "1" else "2")}
    refused(requests.post(u(f"/halls/{HALL}/tickets"), headers=kiosk,
                          json={"category": cat, "channel": "kiosk", "applicant": bad}, timeout=5),
            422, "invalid_id_number")
    closed_cat = next(c["code"] for c in cats if all(c["code"] not in w["categories"] for w in windows[:1]))
    refused(requests.post(u(f"/halls/{HALL}/tickets"), headers=kiosk,
                          json={"category": closed_cat, "channel": "kiosk"}, timeout=5), 409, "no_open_window")

    # Call next: the priority ticket first (ratio 2:1), then the other
    called = ok(requests.post(u(f"/halls/{HALL}/windows/1/call-next"), headers=staff, timeout=5))["ticket"]
    assert called["id"] == t2["id"] and called["status"] == "called" and called["window"] == 1
    refused(requests.post(u(f"/halls/{HALL}/windows/1/call-next"), headers=staff, timeout=5), 409, "window_busy")
    assert ok(requests.post(u(f"/tickets/{t2['id']}/recall"), headers=staff, timeout=5))["recall_count"] == 1
    assert ok(requests.post(u(f"/tickets/{t2['id']}/no-show"), headers=staff, timeout=5))["status"] == "missed"
    assert ok(requests.post(u(f"/tickets/{t2['id']}/requeue"), headers=staff, timeout=5))["status"] == "waiting"
    assert ok(requests.post(u(f"/tickets/{t2['id']}/cancel"), headers=mgr, timeout=5))["status"] == "cancelled"
    refused(requests.post(u(f"/tickets/{t2['id']}/cancel"), headers=mgr, timeout=5), 409, "illegal_transition")
    nxt = ok(requests.post(u(f"/halls/{HALL}/windows/1/call-next"), headers=staff, timeout=5))["ticket"]
    assert nxt["id"] == t1["id"]
    refused(requests.post(u(f"/tickets/{t1['id']}/finish"), headers=staff, json={"outcome": "completed"}, timeout=5),
            409, "illegal_transition")
    assert ok(requests.post(u(f"/tickets/{t1['id']}/start"), headers=staff, timeout=5))["status"] == "serving"
    done = ok(requests.post(u(f"/tickets/{t1['id']}/finish"), headers=staff, json={"outcome": "needs_materials"},
                            timeout=5))
    assert done["status"] == "done" and done["outcome"] == "needs_materials"
    got = ok(requests.get(u(f"/tickets/{t1['id']}"), headers=board, timeout=5))
    assert got["finished_at"] and got["called_at"] and got["recall_count"] == 0 and got["window"] == 1
    # transfer to a window keeps the original issue time; then cancel
    t3 = ok(requests.post(u(f"/halls/{HALL}/tickets"), headers=kiosk, json={"category": cat, "channel": "kiosk"},
                          timeout=5), 201)
    moved = ok(requests.post(u(f"/tickets/{t3['id']}/transfer"), headers=mgr, json={"window": 1}, timeout=5))
    assert moved["status"] == "waiting" and moved["issued_at"] == t3["issued_at"] and moved["target_window"] == 1
    assert ok(requests.post(u(f"/tickets/{t3['id']}/cancel"), headers=mgr, timeout=5))["status"] == "cancelled"
    assert requests.post(u(f"/halls/{HALL}/windows/1/call-next"), headers=staff, timeout=5).status_code == 204

    # Queue and events
    queue = ok(requests.get(u(f"/halls/{HALL}/queue"), timeout=5))
    assert {"code", "waiting", "longest_wait_s"} <= set(queue["categories"][0])
    assert queue["recent_calls"][0]["window"] == 1
    events = ok(requests.get(u(f"/halls/{HALL}/events"), params={"after": 0, "limit": 1000}, headers=board,
                             timeout=5))
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    types = {e["type"] for e in events}
    assert {"window.opened", "ticket.issued", "ticket.called", "ticket.recalled", "ticket.missed",
            "ticket.requeued", "ticket.started", "ticket.finished", "ticket.transferred",
            "ticket.cancelled"} <= types
    tail = ok(requests.get(u(f"/halls/{HALL}/events"), params={"after": events[-3]["seq"]}, headers=board,
                           timeout=5))
    assert tail == events[-2:]
    assert person["id_number"] not in str(events)

    # Pause / resume / close
    assert ok(requests.post(u(f"/halls/{HALL}/windows/1/pause"), headers=staff, json={"reason": "午休"},
                            timeout=5))["status"] == "paused"
    refused(requests.post(u(f"/halls/{HALL}/windows/1/call-next"), headers=staff, timeout=5), 409, "window_paused")
    ok(requests.post(u(f"/halls/{HALL}/windows/1/resume"), headers=staff, timeout=5))
    assert ok(requests.post(u(f"/halls/{HALL}/windows/1/close"), headers=staff, timeout=5))["status"] == "closed"
    refused(requests.post(u(f"/halls/{HALL}/windows/1/call-next"), headers=staff, timeout=5), 409, "window_closed")

    # The OpenAPI document is served
    doc = ok(requests.get(u("/openapi.json"), timeout=5))
    assert doc["openapi"].startswith("3.1")


def test_a_device_revoked_with_the_cli_is_refused_within_seconds(server: Server) -> None:
    made = onedoor(server.env, "device", "add", "--hall", HALL, "--kind", "board", "--name", "spare-board")
    token = made.stdout.strip()
    assert ok(requests.get(server.url("/auth/me"), headers=auth(token), timeout=5))["role"] == "board"
    listing = onedoor(server.env, "device", "list", "--hall", HALL).stdout
    device_id = next(line.split()[0] for line in listing.splitlines() if "spare-board" in line)
    assert onedoor(server.env, "device", "revoke", device_id).returncode == 0
    # The server caches token lookups for at most AuthService.CACHE_TTL_S (5 s).
    deadline = time.monotonic() + 10
    while requests.get(server.url("/auth/me"), headers=auth(token), timeout=5).status_code != 401:
        assert time.monotonic() < deadline, "revoked token still accepted"
        time.sleep(0.5)
