"""The live stream against a real `onedoor serve`: a Socket.IO client connects, gets the
snapshot, and sees a ticket issued over HTTP, over WebSocket and over long-polling."""

from __future__ import annotations

import queue
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio

from tests.acceptance.conftest import hall_env, onedoor, start_server

HALL = "fumin"


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_a_board_follows_the_hall_live(tmp_path: Path, transport: str) -> None:
    env = hall_env(tmp_path)
    assert onedoor(env, "init").returncode == 0
    kiosk = onedoor(env, "device", "add", "--hall", HALL, "--kind", "kiosk").stdout.strip()
    board = onedoor(env, "device", "add", "--hall", HALL, "--kind", "board").stdout.strip()
    assert onedoor(env, "user", "add", "boss", "--role", "manager", "--hall", HALL,
                   stdin="manager-pass-1\n").returncode == 0
    server = start_server(env, tmp_path / "serve.log")
    got: queue.Queue[tuple[str, Any]] = queue.Queue()
    client = socketio.Client(reconnection=False)
    client.on("snapshot", lambda data: got.put(("snapshot", data)), namespace="/hall")
    client.on("ticket.issued", lambda data: got.put(("ticket.issued", data)), namespace="/hall")
    try:
        client.connect(server.base, namespaces=["/hall"], auth={"token": board, "hall": HALL},
                       transports=[transport], wait_timeout=10)
        name, snapshot = got.get(timeout=10)
        assert name == "snapshot" and {"seq", "queue", "windows"} == set(snapshot)
        token = requests.post(server.url("/auth/login"), json={"username": "boss", "password": "manager-pass-1"},
                              timeout=10).json()["token"]
        requests.post(server.url(f"/halls/{HALL}/windows/3/open"), headers={"Authorization": f"Bearer {token}"},
                      timeout=10).raise_for_status()
        t = requests.post(server.url(f"/halls/{HALL}/tickets"), headers={"Authorization": f"Bearer {kiosk}"},
                          json={"category": "A", "channel": "kiosk"}, timeout=10).json()
        while True:
            name, data = got.get(timeout=10)
            if name == "ticket.issued":
                break
        assert data["data"]["ticket"]["id"] == t["id"] and data["seq"] > snapshot["seq"]
    finally:
        client.disconnect()
        assert server.stop() == 0


def test_a_bad_token_cannot_follow_the_hall(tmp_path: Path) -> None:
    env = hall_env(tmp_path)
    assert onedoor(env, "init").returncode == 0
    server = start_server(env, tmp_path / "serve.log")
    client = socketio.Client(reconnection=False)
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(server.base, namespaces=["/hall"], auth={"token": "nope", "hall": HALL},
                           transports=["polling"], wait_timeout=5)
    finally:
        assert server.stop() == 0
