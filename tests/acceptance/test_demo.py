"""`onedoor demo`: the README's main job starts a working hall and stops cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.acceptance.conftest import free_port
from tests.conftest import ROOT


def test_demo_opens_the_example_hall_and_stops_with_its_server(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONEDOOR_")}
    env["ONEDOOR_DATA_DIR"] = str(tmp_path / "demo")
    proc = subprocess.Popen([sys.executable, "-m", "hall_server.cli", "demo", "--port", str(port)], env=env,
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        out = []
        deadline = time.monotonic() + 60
        while not any("Press Ctrl-C" in line for line in out):
            assert time.monotonic() < deadline and proc.poll() is None, "".join(out)
            out.append(proc.stdout.readline())
        text = "".join(out)
        assert f"http://127.0.0.1:{port}/api/v1/halls" in text and "is open (14 windows)" in text
        creds = json.loads((tmp_path / "demo" / "demo-credentials.json").read_text())
        kiosk = {"Authorization": f"Bearer {creds['devices']['kiosk']}"}
        base = f"http://127.0.0.1:{port}/api/v1/halls/fumin"
        t = requests.post(f"{base}/tickets", json={"category": "B", "channel": "kiosk"}, headers=kiosk, timeout=5)
        assert t.status_code == 201 and t.json()["number"] == "B001"
        windows = requests.get(f"{base}/windows", headers=kiosk, timeout=5).json()
        assert {w["status"] for w in windows} == {"open"}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    # the server went with it
    time.sleep(0.5)
    try:
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
        raise AssertionError("the demo's server still answers after the demo stopped")
    except requests.ConnectionError:
        pass
