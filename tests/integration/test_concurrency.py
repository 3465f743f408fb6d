"""Call-next under concurrency: no ticket is ever called twice, none is lost."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import select

from hall_server.adapters.db import tables as tb
from hall_server.bootstrap import Container
from hall_server.domain import commands as c
from hall_server.domain.actors import Actor, Role
from hall_server.domain.errors import ConcurrentUpdate, WindowBusy
from tests.integration.conftest import HALL

TICKETS = 500
THREADS = 32
ISSUERS = 4


@pytest.mark.slow
def test_call_next_never_gives_one_ticket_to_two_windows(container: Container) -> None:
    bus = container.bus
    manager = Actor("manager", Role.MANAGER, HALL)
    kiosk = Actor("device:kiosk", Role.KIOSK, HALL)
    cfg = container.views.hall_config(HALL)
    for w in cfg.windows:
        bus.handle(c.OpenWindow(manager, HALL, w.number))
    categories = [cat.code for cat in cfg.categories]

    issued: list[str] = []
    served: Counter[str] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()
    to_issue = iter(range(TICKETS))

    def guarded(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except BaseException as e:  # surfaced by the main thread
                errors.append(e)
        return run

    def issuer() -> None:
        rnd = random.Random()
        while True:
            with lock:
                n = next(to_issue, None)
            if n is None:
                return
            body = bus.handle(c.IssueTicket(kiosk, HALL, "kiosk", category=rnd.choice(categories)))
            with lock:
                issued.append(body["id"])

    def worker(window: int) -> None:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            with lock:
                if sum(served.values()) >= TICKETS:
                    return
            try:
                got = bus.handle(c.CallNext(manager, HALL, window))
            except (WindowBusy, ConcurrentUpdate):
                # Another thread at the same window holds a ticket: let it finish.
                time.sleep(0.001)
                continue
            if got is None:
                time.sleep(0.002)
                continue
            tid = got["id"]
            bus.handle(c.StartService(manager, tid))
            bus.handle(c.FinishService(manager, tid, outcome="completed"))
            with lock:
                served[tid] += 1
        raise AssertionError(f"window {window} gave up before every ticket was served")

    numbers = [w.number for w in cfg.windows]
    threads = [threading.Thread(target=guarded(issuer)) for _ in range(ISSUERS)]
    threads += [threading.Thread(target=guarded(lambda n=n: worker(n)))
                for n in (numbers[i % len(numbers)] for i in range(THREADS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not errors, errors[:3]
    assert len(issued) == TICKETS and len(set(issued)) == TICKETS

    # Each ticket served exactly once, none lost.
    assert set(served) == set(issued)
    assert max(served.values()) == 1

    with container.db.read.connect() as conn:
        rows = conn.execute(select(tb.tickets.c.id, tb.tickets.c.status, tb.tickets.c.number,
                                   tb.tickets.c.category)).all()
        calls = conn.execute(select(tb.events.c.data).where(tb.events.c.type == "ticket.called")).all()
        seqs = [r.seq for r in conn.execute(select(tb.events.c.seq).order_by(tb.events.c.seq))]
        busy = conn.execute(select(tb.windows.c.number).where(tb.windows.c.current_ticket.is_not(None))).all()
    assert {r.status for r in rows} == {"done"} and len(rows) == TICKETS
    called = Counter(e.data["ticket"]["id"] for e in calls)
    assert len(called) == TICKETS and max(called.values()) == 1
    # numbers unique per day, contiguous per category
    by_cat: dict[str, list[int]] = {}
    for r in rows:
        by_cat.setdefault(r.category, []).append(int(r.number[1:]))
    for seq_numbers in by_cat.values():
        assert sorted(seq_numbers) == list(range(1, len(seq_numbers) + 1))
    # event seq: 1..N, no gap, no repeat
    assert seqs == list(range(1, len(seqs) + 1))
    assert busy == []
