"""A whole day of the hall through the API: no full ID number or name leaves the server unasked.

Everything a board, console, kiosk, dashboard or the platform could receive is collected
(every response body, every event, every log line) and searched for the generated
identities; only the audited reveal may return a number, and only to a manager.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from tests.fakes import id_number
from tests.integration.conftest import HALL, Api
from tests.integration.test_api import open_window, window_serving

NAMES = ["张三丰", "欧阳明月", "李四"]


def test_a_full_day_leaks_no_full_id_number_or_name(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    people = [{"id_type": "resident_id", "id_number": id_number(), "name": name} for name in NAMES]
    company = {"id_type": "uscc", "id_number": "91350100M000100Y43", "name": "某某有限公司"}
    seen: list[Any] = []

    def call(method: str, path: str, who: str | None = None, body: Any = None) -> Any:
        r = api.call(method, path, who, json=body)
        seen.append(r.get_data(as_text=True))
        return r.get_json(silent=True)

    for w in api.call("GET", f"/halls/{HALL}/windows", "manager").get_json():
        open_window(api, w["number"])
    a_window = window_serving(api, "A")
    tz = api.container.views.hall_config(HALL).tz
    now = api.container.clock.now().astimezone(tz)
    soon = (now + timedelta(minutes=30 - now.minute % 30)).replace(second=0, microsecond=0)

    booking = call("POST", f"/halls/{HALL}/appointments", "kiosk",
                   {"category": "A", "slot_start": soon.isoformat(), "applicant": people[0], "channel": "mobile"})
    call("POST", f"/halls/{HALL}/check-in", "kiosk", {"code": booking["code"]})
    tickets = [call("POST", f"/halls/{HALL}/tickets", "kiosk",
                    {"category": "A", "channel": "kiosk", "applicant": p}) for p in people[1:]]
    tickets.append(call("POST", f"/halls/{HALL}/tickets", "kiosk",
                        {"category": "C", "channel": "kiosk", "applicant": company}))
    tickets.append(call("POST", f"/halls/{HALL}/tickets", "kiosk", {
        "category": "B", "channel": "kiosk", "priority_group": "disabled", "priority_reason": "残疾人证 张三丰",
        "applicant": {"id_type": "resident_id", "id_number": id_number()}}))
    for _ in range(3):
        called = call("POST", f"/halls/{HALL}/windows/{a_window}/call-next", "manager")
        if not called:
            break
        tid = called["ticket"]["id"]
        call("POST", f"/tickets/{tid}/recall", "manager")
        call("POST", f"/tickets/{tid}/start", "manager")
        call("POST", f"/tickets/{tid}/finish", "manager", {"outcome": "needs_materials"})
        call("POST", f"/tickets/{tid}/evaluation", "kiosk", {"level": 2, "channel": "kiosk", "comment": "太慢"})
        call("GET", f"/tickets/{tid}", "board")
    b = next(t for t in tickets if t["category"] == "B")
    call("POST", f"/tickets/{b['id']}/transfer", "manager", {"category": "A"})
    call("POST", f"/tickets/{b['id']}/cancel", "manager")
    for path, who in ((f"/halls/{HALL}/queue", None), (f"/halls/{HALL}/windows", "board"),
                      (f"/halls/{HALL}/events?after=0&limit=1000", "board"),
                      (f"/halls/{HALL}/evaluations", "manager"), (f"/halls/{HALL}/audit", "manager")):
        call("GET", path, who)
    for t in tickets:
        call("GET", f"/tickets/{t['id']}", "kiosk")
        call("GET", f"/t/{t['status_url'].rsplit('/', 1)[1]}")
    events = api.container.views.events_after(HALL, 0, 10_000)
    assert {"ticket.issued", "ticket.called", "appointment.booked", "appointment.checked_in",
            "evaluation.submitted", "ticket.transferred"} <= {e["type"] for e in events}

    everything = "\n".join(str(x) for x in seen) + json.dumps(events, ensure_ascii=False) + caplog.text
    secrets = [p["id_number"] for p in people] + NAMES + [company["name"]]
    leaked = [s for s in secrets if s in everything]
    assert leaked == []
    # the masked forms are what is shown
    assert people[1]["id_number"][:4] + "*" * 10 + people[1]["id_number"][-4:] in everything
