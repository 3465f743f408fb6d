"""Appointments through the API on SQLite and PostgreSQL: the contract's codes, and no overbooking."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hall_server.bootstrap import bootstrap
from hall_server.domain import commands as c
from hall_server.domain.actors import Actor, Role
from hall_server.domain.errors import SlotFull
from tests.conftest import EXAMPLE_HALL, make_settings
from tests.fakes import id_number
from tests.integration.conftest import HALL, Api
from tests.integration.test_api import open_window, problem, window_serving


def next_slot(api: Api, days: int = 1, hour: int = 10) -> str:
    """A slot start `days` ahead at `hour` local time (the test hall is open around the clock)."""
    tz = api.container.views.hall_config(HALL).tz
    day = (api.container.clock.now().astimezone(tz) + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=tz).isoformat()


def person() -> dict[str, str]:
    return {"id_type": "resident_id", "id_number": id_number()}


def book(api: Api, who: dict[str, str], start: str, **extra: Any) -> Any:
    return api.call("POST", f"/halls/{HALL}/appointments", "kiosk",
                    json={"category": "A", "slot_start": start, "applicant": who, "channel": "online", **extra})


def test_slots_list_capacity_and_bookings(api: Api) -> None:
    start = next_slot(api)
    assert book(api, person(), start).status_code == 201
    day = start[:10]
    slots = api.client.get(f"/api/v1/halls/{HALL}/slots", query_string={"date": day, "category": "A"}).get_json()
    assert len(slots) == 48  # always open in tests: every half hour
    taken = next(s for s in slots if s["start"] == start)
    assert taken == {"start": start, "end": taken["end"], "capacity": 4, "booked": 1}
    for bad in ({"date": day}, {"date": "2026-02-30", "category": "A"}, {"date": day, "category": "Z"}):
        r = api.client.get(f"/api/v1/halls/{HALL}/slots", query_string=bad)
        assert r.status_code == 422


def test_booking_full_past_and_invalid_id_are_refused_as_the_contract_says(api: Api) -> None:
    start = next_slot(api, hour=11)
    for _ in range(4):
        assert book(api, person(), start).status_code == 201
    problem(book(api, person(), start), 409, "slot_full")
    problem(book(api, person(), next_slot(api, days=-1)), 422, "slot_unavailable")
    problem(book(api, {"id_type": "resident_id", "id_number": "530102199003071239"}, next_slot(api, hour=12)),
            422, "invalid_id_number")
    problem(api.call("POST", f"/halls/{HALL}/appointments", "kiosk",
                     json={"category": "A", "slot_start": start, "channel": "online"}), 422, "invalid_request")
    problem(api.call("POST", f"/halls/{HALL}/appointments", "board",
                     json={"category": "A", "slot_start": start, "applicant": person(), "channel": "online"}),
            403, "forbidden")


def test_cancelling_frees_the_place(api: Api) -> None:
    start = next_slot(api, hour=13)
    ids = [book(api, person(), start).get_json()["id"] for _ in range(4)]
    problem(book(api, person(), start), 409, "slot_full")
    r = api.call("POST", f"/appointments/{ids[0]}/cancel", "kiosk")
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled"
    assert book(api, person(), start).status_code == 201
    problem(api.call("POST", f"/appointments/{ids[0]}/cancel", "kiosk"), 409, "illegal_transition")


def test_check_in_inside_the_window_once_and_by_id(api: Api) -> None:
    tz = api.container.views.hall_config(HALL).tz
    now = api.container.clock.now().astimezone(tz)
    soon = (now + timedelta(minutes=30 - now.minute % 30)).replace(second=0, microsecond=0)  # next slot
    who = person()
    a = book(api, who, soon.isoformat()).get_json()
    open_window(api, window_serving(api, "A"))
    walk_in = api.call("POST", f"/halls/{HALL}/tickets", "kiosk", json={"category": "A", "channel": "kiosk"})
    r = api.call("POST", f"/halls/{HALL}/check-in", "kiosk", json={"code": a["code"]})
    assert r.status_code == 201
    ticket = r.get_json()
    assert ticket["appointment"] is True and ticket["channel"] == "online"
    assert ticket["position"] == 1 and walk_in.get_json()["position"] == 1  # the appointment goes first
    problem(api.call("POST", f"/halls/{HALL}/check-in", "kiosk", json={"code": a["code"]}), 409,
            "already_checked_in")
    problem(api.call("POST", f"/halls/{HALL}/check-in", "kiosk", json={"applicant": who}), 409,
            "already_checked_in")
    later = book(api, person(), next_slot(api, hour=15)).get_json()
    r = api.call("POST", f"/halls/{HALL}/check-in", "kiosk", json={"code": later["code"]})
    body = problem(r, 409, "outside_check_in_window")
    assert body["check_in_from"] and body["check_in_until"]
    problem(api.call("POST", f"/halls/{HALL}/check-in", "kiosk", json={"code": "NOT-A-CODE"}), 404, "not_found")


def test_fifty_concurrent_bookings_of_five_places_give_exactly_five(
    tmp_path: Path, make_db_url: Callable[[str], str], backend: str
) -> None:
    config = tmp_path / "hall.yaml"
    config.write_text(EXAMPLE_HALL.read_text(encoding="utf-8").replace(
        "appointment_slot_capacity: 4", "appointment_slot_capacity: 5"), encoding="utf-8")
    container = bootstrap(make_settings(tmp_path, make_db_url(backend)))
    try:
        container.init_database(config)
        tz = container.views.hall_config(HALL).tz
        day = (datetime.now(tz) + timedelta(days=2)).date()
        start = datetime(day.year, day.month, day.day, 10, tzinfo=tz)
        kiosk = Actor("device:kiosk", Role.KIOSK, HALL)
        results: list[str] = []
        lock = threading.Lock()
        barrier = threading.Barrier(50)

        def one() -> None:
            who = c.Applicant("resident_id", id_number())
            barrier.wait()
            try:
                container.bus.handle(c.BookAppointment(kiosk, HALL, start, who, "online", category="A"))
                outcome = "booked"
            except SlotFull:
                outcome = "full"
            with lock:
                results.append(outcome)

        threads = [threading.Thread(target=one) for _ in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert sorted(results).count("booked") == 5 and results.count("full") == 45
        slot = next(s for s in container.views.slots(HALL, day, "A") if s["start"] == start.isoformat())
        assert slot["booked"] == 5
    finally:
        container.close()
