"""API load benchmark: ticket issuing and call-next over HTTP against a real `onedoor serve`.

Starts the server as its own process the way production runs it (gunicorn, gthread), on
a fresh SQLite database (or ONEDOOR_DATABASE_URL), and drives it on 127.0.0.1 with N
concurrent keep-alive clients for a bounded time. Prints operations/s and p50/p99
latency for:

- `GET /healthz`, a bare Flask endpoint in the same server: the machine's ceiling;
- `POST /halls/{hall}/tickets`, issuing (ticket + counter + event + outbox in one commit);
- `POST /halls/{hall}/windows/{n}/call-next`, each client at its own window, followed by
  start and finish (measured separately) so the window is free for its next call.

    .venv/bin/python benchmarks/api_load.py --clients 64 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HALL = "bench"
CATEGORIES = "ABCDEFGH"


def bench_hall_yaml(windows: int) -> str:
    """A hall whose every window serves every category, one window per call-next client."""
    lines = [
        "version: 1",
        "hall: {code: bench, name: 压测大厅, level: county, timezone: Asia/Shanghai, region_code: '530124'}",
        "categories:",
    ]
    # A, B take the closed-loop phases; each open-loop rate issues into two fresh categories,
    # so every phase starts with a queue of the length a hall really has (positions cost
    # one index range per ticket, so an ever-growing queue would slow later phases).
    lines += [f"  - {{code: {c}, name: 类别{c}, prefix: {c}}}" for c in CATEGORIES]
    lines += ["windows:"]
    lines += [f"  - {{number: {n}, name: '{n}号窗口', categories: [{', '.join(CATEGORIES)}]}}"
              for n in range(1, windows + 1)]
    lines += [
        "hours: {weekly: {mon: ['09:00-17:00']}}",
        "rules: {tickets_per_person_per_day: 100}",
        "items:",
        "  - {code: XK-BENCH-1, name: 企业设立登记, type: 行政许可, category: A, legal_basis: 行政许可法,",
        "     authority_scope: 县级, time_limit: {legal_days: 15, promised_days: 1}, procedure: [申请, 受理],",
        "     conditions: 无, materials: [{name: 申请书}], forms: [申请书], fees: 不收费, result: 营业执照}",
    ]
    return "\n".join(lines) + "\n"


@dataclass
class Result:
    """Latencies (s) and status codes of one phase."""

    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0

    def add(self, status: int, seconds: float) -> None:
        self.latencies.append(seconds)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def line(self) -> str:
        if not self.latencies:
            return f"{self.name:<28} no requests"
        lat = sorted(self.latencies)
        p50 = lat[len(lat) // 2] * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        rate = len(lat) / self.elapsed
        codes = ", ".join(f"{k}:{v}" for k, v in sorted(self.statuses.items()))
        return (f"{self.name:<28} {rate:8.0f} ops/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   "
                f"mean {statistics.fmean(lat) * 1000:6.1f} ms   n={len(lat)} ({codes})")

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


class Conn:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams (the load generator must stay cheap)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: dict | None = None,
                      token: str | None = None) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        payload = json.dumps(body).encode() if body is not None else b""
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(payload)}"]
        if body is not None:
            head.append("Content-Type: application/json")
        if token:
            head.append(f"Authorization: Bearer {token}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        assert self.reader is not None
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        close = False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        data = await self.reader.readexactly(length) if length else b""
        if close:
            self.writer.close()
            self.writer = None
        return status, data


async def run_phase(clients: int, seconds: float, make_step) -> dict[str, Result]:  # type: ignore[no-untyped-def]
    """Run `clients` loops of `make_step(i, conn)` for `seconds`; results per request label."""
    results: dict[str, Result] = {}
    stop_at = time.perf_counter() + seconds

    async def loop(i: int) -> None:
        conn = Conn("127.0.0.1", PORT)
        step = make_step(i, conn)
        while time.perf_counter() < stop_at:
            for label, status, latency in await step():
                results.setdefault(label, Result(label)).add(status, latency)

    started = time.perf_counter()
    await asyncio.gather(*(loop(i) for i in range(clients)))
    elapsed = time.perf_counter() - started
    for r in results.values():
        r.elapsed = elapsed
    return results


async def run_paced(clients: int, seconds: float, rate: float, make_step) -> dict[str, Result]:  # type: ignore[no-untyped-def]
    """Open loop: steps start on a fixed schedule (`rate` per second over all clients).

    Latency is measured from the scheduled start, so a server that falls behind shows it
    (no coordinated omission); a client whose step overruns starts the next one late.
    """
    results: dict[str, Result] = {}
    interval = clients / rate
    started = time.perf_counter()
    stop_at = started + seconds

    async def loop(i: int) -> None:
        conn = Conn("127.0.0.1", PORT)
        step = make_step(i, conn)
        due = started + interval * i / clients
        while due < stop_at:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            late = max(0.0, time.perf_counter() - due)
            for label, status, latency in await step():
                results.setdefault(label, Result(label)).add(status, latency + late)
                late = 0.0  # only the step's first request carries the scheduling delay
            due += interval

    await asyncio.gather(*(loop(i) for i in range(clients)))
    elapsed = time.perf_counter() - started
    for r in results.values():
        r.elapsed = elapsed
    return results


async def timed(conn: Conn, label: str, method: str, path: str, body: dict | None, token: str | None):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    status, data = await conn.request(method, f"/api/v1{path}" if path.startswith("/halls") else path, body, token)
    return label, status, time.perf_counter() - t0, data


PORT = 0


def main() -> int:
    global PORT
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=64, help="concurrent clients (1..256)")
    p.add_argument("--seconds", type=float, default=10.0, help="duration of each phase (1..120)")
    p.add_argument("--threads", type=int, default=64, help="server request threads per worker")
    p.add_argument("--workers", type=int, default=1, help="server worker processes")
    p.add_argument("--rates", default="300,500",
                   help="offered requests/s of the open-loop phases, comma-separated (at most 3, each 1..5000)")
    args = p.parse_args()
    clients = max(1, min(args.clients, 256))
    seconds = max(1.0, min(args.seconds, 120.0))

    from hall_server.bootstrap import bootstrap
    from hall_server.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="onedoor-bench-"))
    cfg_path = tmp / "bench-hall.yaml"
    cfg_path.write_text(bench_hall_yaml(clients), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k.startswith("ONEDOOR_DATABASE_URL")}
    env.update({"ONEDOOR_DATA_DIR": str(tmp), "ONEDOOR_ALWAYS_OPEN": "1"})
    settings = Settings.from_env(env)
    container = bootstrap(settings)
    container.init_database(cfg_path)
    container.auth.add_user("bench", "bench-password-1", "manager", HALL)
    _, kiosk = container.auth.add_device(HALL, "kiosk", "bench-kiosk")
    container.close()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        PORT = s.getsockname()[1]
    server_env = {**os.environ, **env, "ONEDOOR_PORT": str(PORT), "ONEDOOR_THREADS": str(args.threads),
                  "ONEDOOR_WORKERS": str(args.workers),
                  "ONEDOOR_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "hall_server.cli", "serve"], env=server_env, cwd=ROOT)
    try:
        base = f"http://127.0.0.1:{PORT}"
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.1)
        req = urllib.request.Request(f"{base}/api/v1/auth/login", method="POST",  # noqa: S310
                                     data=json.dumps({"username": "bench", "password": "bench-password-1"}).encode(),
                                     headers={"Content-Type": "application/json"})
        manager = json.loads(urllib.request.urlopen(req, timeout=10).read())["token"]  # noqa: S310
        for n in range(1, clients + 1):
            r = urllib.request.Request(f"{base}/api/v1/halls/{HALL}/windows/{n}/open", method="POST",  # noqa: S310
                                       headers={"Authorization": f"Bearer {manager}"})
            urllib.request.urlopen(r, timeout=10)  # noqa: S310

        print(f"OneDoor API load: {clients} clients, {seconds:.0f} s per phase, server threads {args.threads}, "
              f"database {'SQLite (WAL)' if 'sqlite' in settings.database_url else settings.database_url.split(':')[0]}, "
              f"{os.cpu_count()} CPUs")

        def bare(i: int, conn: Conn):  # type: ignore[no-untyped-def]
            async def step():  # type: ignore[no-untyped-def]
                label, status, lat, _ = await timed(conn, "bare Flask GET /healthz", "GET", "/healthz", None, None)
                return [(label, status, lat)]
            return step

        def issuing_into(pair: str):  # type: ignore[no-untyped-def]
            return lambda i, conn: issuing(i, conn, pair)

        def issuing(i: int, conn: Conn, pair: str = "AB"):  # type: ignore[no-untyped-def]
            body = {"category": pair[i % 2], "channel": "kiosk"}

            async def step():  # type: ignore[no-untyped-def]
                label, status, lat, _ = await timed(conn, "issue ticket (POST)", "POST", f"/halls/{HALL}/tickets",
                                                    body, kiosk)
                return [(label, status, lat)]
            return step

        def calling(i: int, conn: Conn):  # type: ignore[no-untyped-def]
            window = i + 1

            async def step():  # type: ignore[no-untyped-def]
                out = []
                label, status, lat, data = await timed(conn, "call-next (POST)", "POST",
                                                       f"/halls/{HALL}/windows/{window}/call-next", None, manager)
                out.append((label, status, lat))
                if status == 200:
                    tid = json.loads(data)["ticket"]["id"]
                    for move, body in (("start", None), ("finish", {"outcome": "completed"})):
                        label, status, lat, _ = await timed(conn, f"{move} (POST)", "POST",
                                                            f"/api/v1/tickets/{tid}/{move}", body, manager)
                        out.append((label, status, lat))
                return out
            return step

        rates = [max(1.0, min(float(r), 5000.0)) for r in args.rates.split(",")[:3]]
        phases = {}
        print("closed loop: every client sends its next request as soon as it has the answer (capacity)")
        for name, factory in (("bare", bare), ("issue", issuing), ("call", calling)):
            phases[name] = asyncio.run(run_phase(clients, seconds, factory))
            for r in phases[name].values():
                print("  " + r.line())
        ceiling = phases["bare"]["bare Flask GET /healthz"].rate
        issue = phases["issue"]["issue ticket (POST)"]
        phases["call"]["call-next (POST)"]
        moves = sum(r.rate for r in phases["call"].values())
        print(f"  issue capacity = {issue.rate / ceiling:.0%} of the bare endpoint; call-next cycles "
              f"(call, start, finish) = {moves:.0f} requests/s = {moves / ceiling:.0%} of the bare endpoint")
        for n, rate in enumerate(rates):
            print(f"open loop at {rate:.0f} requests/s offered by {clients} clients "
                  f"(latency from the scheduled time; call-next cycles offer {rate / 3:.0f} cycles/s)")
            pair = CATEGORIES[2 + 2 * n: 4 + 2 * n]
            for factory, offered in ((issuing_into(pair), rate), (calling, rate / 3)):
                for r in asyncio.run(run_paced(clients, seconds, offered, factory)).values():
                    print("  " + r.line())
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
