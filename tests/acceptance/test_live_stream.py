"""The live stream against a real `onedoor serve`: a Socket.IO client connects, gets the
snapshot, and sees a ticket issued over HTTP, over WebSocket and over long-polling."""

from __future__ import annotations

import queue
from pathlib import Path
from typing import Any

import pytest
import socketio

from tests.acceptance.conftest import Hall, hall_env, onedoor, start_server

HALL = "fumin"


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_a_board_follows_the_hall_live(hall: Hall, transport: str) -> None:
    got: queue.Queue[tuple[str, Any]] = queue.Queue()
    client = socketio.Client(reconnection=False)
    client.on("snapshot", lambda data: got.put(("snapshot", data)), namespace="/hall")
    client.on("ticket.issued", lambda data: got.put(("ticket.issued", data)), namespace="/hall")
    try:
        client.connect(hall.server.base, namespaces=["/hall"], auth={"token": hall.board, "hall": HALL},
                       transports=[transport], wait_timeout=10)
        name, snapshot = got.get(timeout=10)
        assert name == "snapshot" and {"seq", "queue", "windows"} == set(snapshot)
        hall.as_boss("POST", f"/halls/{HALL}/windows/3/open").raise_for_status()
        t = hall.issue("A")
        while True:
            name, data = got.get(timeout=10)
            if name == "ticket.issued":
                break
        assert data["data"]["ticket"]["id"] == t["id"] and data["seq"] > snapshot["seq"]
    finally:
        client.disconnect()


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
