"""`onedoor demo`: the example hall on this machine (SQLite, demo users and devices, server)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from hall_server.bootstrap import bootstrap
from hall_server.domain.errors import DomainError
from hall_server.settings import Settings

DEMO_PASSWORD = "onedoor-demo"  # noqa: S105 - printed on screen: a demo on one laptop


def _http(method: str, url: str, body: dict[str, Any] | None = None, token: str | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - http://host:port of our server
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - our own loopback server
        raw = resp.read()
    return json.loads(raw) if raw else None


def _wait_up(base: str, proc: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"onedoor demo: the server exited with code {proc.returncode}")
        try:
            _http("GET", f"{base}/healthz")
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    raise SystemExit("onedoor demo: the server did not come up in time")


def prepare(data_dir: Path, env: dict[str, str]) -> dict[str, Any]:
    """Create the database, demo users and device tokens once; reuse them afterwards."""
    settings = Settings.from_env(env)
    c = bootstrap(settings)
    creds_path = data_dir / "demo-credentials.json"
    try:
        report = c.init_database()
        hall = report["hall"]
        if creds_path.exists():
            creds = json.loads(creds_path.read_text())
        else:
            cfg = c.views.hall_config(hall)
            users: list[tuple[str, str, str | None, int | None]] = [
                ("admin", "admin", None, None), ("manager", "manager", hall, None)]
            users += [(f"staff{w.number:02d}", "staff", hall, w.number) for w in cfg.windows]
            for name, role, h, window in users:
                try:
                    c.auth.add_user(name, DEMO_PASSWORD, role, h, window)
                except DomainError:
                    pass  # exists from an interrupted earlier run
            devices = {kind: c.auth.add_device(hall, kind, f"demo-{kind}")[1] for kind in ("kiosk", "board")}
            creds = {"hall": hall, "password": DEMO_PASSWORD, "users": [u[0] for u in users], "devices": devices}
            creds_path.write_text(json.dumps(creds, indent=2))
            os.chmod(creds_path, 0o600)
    finally:
        c.close()
    return creds


def run_demo(host: str = "127.0.0.1", port: int = 8080) -> int:
    """Run the hall until Ctrl-C."""
    data_dir = Path(os.environ.get("ONEDOOR_DATA_DIR") or "./var/demo").resolve()
    env = dict(os.environ)
    env.update({
        "ONEDOOR_DATA_DIR": str(data_dir),
        "ONEDOOR_ALWAYS_OPEN": "1",
        "ONEDOOR_HOST": host,
        "ONEDOOR_PORT": str(port),
    })
    env.pop("ONEDOOR_DATABASE_URL", None)  # the demo is the SQLite hall of the README
    creds = prepare(data_dir, env)
    hall = creds["hall"]

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM stops the demo like Ctrl-C: the server goes with it

    signal.signal(signal.SIGTERM, stop)
    base = f"http://{host}:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "hall_server.cli", "serve"], env=env)
    try:
        _wait_up(base, proc)
        token = _http("POST", f"{base}/api/v1/auth/login",
                      {"username": "manager", "password": creds["password"]})["token"]
        windows = _http("GET", f"{base}/api/v1/halls/{hall}/windows", token=token)
        for w in windows:
            _http("POST", f"{base}/api/v1/halls/{hall}/windows/{w['number']}/open", {}, token)
        print(f"""
OneDoor demo: {hall} is open ({len(windows)} windows), data in {data_dir}

  Board         {base}/board/{hall}?token={creds['devices']['board']}
  API           {base}/api/v1/halls
  OpenAPI       {base}/api/v1/openapi.json
  Queue         {base}/api/v1/halls/{hall}/queue
  Users         admin, manager, staff01..staff{len(windows):02d}   password: {creds['password']}
  Kiosk token   {creds['devices']['kiosk']}
  Board token   {creds['devices']['board']}

Try:  curl -s -X POST {base}/api/v1/halls/{hall}/tickets \\
        -H 'Authorization: Bearer {creds['devices']['kiosk']}' -H 'Content-Type: application/json' \\
        -d '{{"category": "A", "channel": "kiosk"}}'
Press Ctrl-C to stop.
""", flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
