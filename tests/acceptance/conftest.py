"""Helpers of the acceptance tests: the real `onedoor` command and a real server process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hall_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a test hall: our variables only, always open, cheap password hashes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEDOOR_")}
    env.update({"ONEDOOR_DATA_DIR": str(data_dir), "ONEDOOR_ALWAYS_OPEN": "1",
                "ONEDOOR_PASSWORD_HASH": "scrypt:1024:8:1", **extra})
    return env


def onedoor(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the `onedoor` command as an installer would."""
    return subprocess.run([sys.executable, "-m", "hall_server.cli", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)


@dataclass
class ServerProcess:
    """`onedoor serve` running in the background, its output in a log file."""

    base: str
    proc: subprocess.Popen[bytes]
    log: Path

    def url(self, path: str) -> str:
        """An API URL."""
        return f"{self.base}/api/v1{path}"

    def stop(self) -> int:
        """SIGTERM, as a process supervisor stops it; the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)


def start_server(env: dict[str, str], log: Path) -> ServerProcess:
    """Start `onedoor serve` on a free port and wait until it answers."""
    port = free_port()
    out = log.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "hall_server.cli", "serve", "--port", str(port)], env=env,
                            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{base}/healthz", timeout=1).ok:
                return ServerProcess(base, proc, log)
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"server did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)


@dataclass
class Hall:
    """A running example hall with a manager (`boss`), a kiosk and a board."""

    server: ServerProcess
    kiosk: str
    board: str
    boss: dict[str, str]

    def as_boss(self, method: str, path: str, body: object = None) -> requests.Response:
        """An API call as the hall's manager."""
        return requests.request(method, self.server.url(path), headers=self.boss, json=body, timeout=10)

    def issue(self, category: str = "A") -> dict[str, object]:
        """A walk-in ticket from the kiosk."""
        r = requests.post(self.server.url("/halls/fumin/tickets"), headers={"Authorization": f"Bearer {self.kiosk}"},
                          json={"category": category, "channel": "kiosk"}, timeout=10)
        r.raise_for_status()
        return dict(r.json())


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[Hall]:
    """`onedoor init`, a manager, a kiosk and a board token, and `onedoor serve` running."""
    env = hall_env(tmp_path)
    assert onedoor(env, "init").returncode == 0
    kiosk = onedoor(env, "device", "add", "--hall", "fumin", "--kind", "kiosk").stdout.strip()
    board = onedoor(env, "device", "add", "--hall", "fumin", "--kind", "board").stdout.strip()
    assert onedoor(env, "user", "add", "boss", "--role", "manager", "--hall", "fumin",
                   stdin="manager-pass-1\n").returncode == 0
    server = start_server(env, tmp_path / "serve.log")
    try:
        token = requests.post(server.url("/auth/login"), json={"username": "boss", "password": "manager-pass-1"},
                              timeout=10).json()["token"]
        yield Hall(server, kiosk, board, {"Authorization": f"Bearer {token}"})
    finally:
        assert server.stop() == 0
