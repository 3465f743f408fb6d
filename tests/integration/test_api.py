"""The API of API.md through Flask's test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from hall_server.adapters.db import tables as tb
from tests.fakes import id_number
from tests.integration.conftest import HALL, Api

PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}


def problem(r: Any, status: int, code: str) -> dict[str, Any]:
    """Assert a problem+json response and return its body."""
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.mimetype == "application/problem+json"
    body = r.get_json()
    assert set(body) >= PROBLEM_KEYS
    assert body["code"] == code and body["status"] == status and body["detail"]
    return body


def counts(api: Api) -> dict[str, int]:
    """Rows per table (to prove a refused request changed nothing)."""
    with api.container.db.read.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in tb.metadata.sorted_tables if t.name != "login_failures"}


def window_serving(api: Api, category: str, first: bool = True) -> int:
    """The number of a window whose first (or any) category is `category`."""
    for w in api.call("GET", f"/halls/{HALL}/windows", "manager").get_json():
        if (w["categories"][0] == category) if first else (category in w["categories"]):
            return int(w["number"])
    raise AssertionError(f"no window serves {category}")


def open_window(api: Api, number: int, who: str = "manager") -> None:
    r = api.call("POST", f"/halls/{HALL}/windows/{number}/open", who)
    assert r.status_code == 200, r.get_json()


def issue(api: Api, who: str = "kiosk", **body: Any) -> dict[str, Any]:
    body.setdefault("channel", "kiosk")
    r = api.call("POST", f"/halls/{HALL}/tickets", who, json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


# ---------------------------------------------------------------- auth


def test_login_returns_token_and_user(api: Api) -> None:
    r = api.call("POST", "/auth/login", json={"username": "staff1", "password": "correct-horse-42"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["token"] and body["user"] == {"username": "staff1", "role": "staff", "hall": HALL, "window": 1}


def test_bad_password_is_401_and_repeated_failures_are_throttled_with_429(api: Api) -> None:
    for _ in range(5):
        problem(api.call("POST", "/auth/login", json={"username": "staff2", "password": "wrong-password"}),
                401, "bad_credentials")
    r = api.call("POST", "/auth/login", json={"username": "staff2", "password": "correct-horse-42"})
    body = problem(r, 429, "too_many_attempts")
    assert int(r.headers["Retry-After"]) > 0 and body["detail"]


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(api: Api) -> None:
    problem(api.call("POST", "/auth/login", json={"username": "nobody", "password": "whatever-1"}),
            401, "bad_credentials")


def test_mutations_need_a_token_and_the_right_role(api: Api) -> None:
    before = counts(api)
    problem(api.call("POST", f"/halls/{HALL}/tickets", json={"category": "A", "channel": "kiosk"}),
            401, "unauthenticated")
    problem(api.call("POST", f"/halls/{HALL}/tickets", "board", json={"category": "A", "channel": "kiosk"}),
            403, "forbidden")
    problem(api.call("POST", f"/halls/{HALL}/windows/1/open", "kiosk"), 403, "forbidden")
    problem(api.call("POST", f"/halls/{HALL}/windows/1/open", json={}, headers={"Authorization": "Bearer nope"}),
            401, "unauthenticated")
    assert counts(api) == before


def test_staff_bound_to_a_window_cannot_operate_another(api: Api) -> None:
    problem(api.call("POST", f"/halls/{HALL}/windows/2/open", "staff1"), 403, "forbidden")
    open_window(api, 1, "staff1")
    problem(api.call("POST", f"/halls/{HALL}/windows/1/call-next", "staff2"), 403, "forbidden")


def test_a_token_of_one_hall_is_refused_in_another(api: Api) -> None:
    problem(api.call("GET", "/halls/elsewhere/windows", "manager"), 403, "forbidden")
    # admins see every hall; an unknown hall is then a 404
    problem(api.call("GET", "/halls/elsewhere/windows", "admin"), 404, "not_found")


def test_revoked_device_token_stops_working(api: Api) -> None:
    device_id, token = api.container.auth.add_device(HALL, "kiosk", "to-revoke")
    api.tokens["doomed"] = token
    assert api.call("GET", "/auth/me", "doomed").status_code == 200
    api.container.auth.revoke_device(device_id)
    problem(api.call("GET", "/auth/me", "doomed"), 401, "unauthenticated")


# ---------------------------------------------------------------- halls


def test_halls_categories_and_items_describe_the_example_hall(api: Api) -> None:
    halls = api.call("GET", "/halls").get_json()
    assert {"code": HALL, "name": halls[0]["name"], "level": "county", "timezone": "Asia/Shanghai"} in halls
    cats = api.call("GET", f"/halls/{HALL}/categories").get_json()
    assert [c["code"] for c in cats][:6] == ["A", "B", "C", "D", "E", "F"]
    assert all({"code", "name", "prefix"} <= set(c) for c in cats)
    items = api.call("GET", f"/halls/{HALL}/items").get_json()
    assert len(items) >= 40
    name = items[0]["name"]
    hits = api.client.get(f"/api/v1/halls/{HALL}/items", query_string={"q": name}).get_json()
    assert any(i["code"] == items[0]["code"] for i in hits)


def test_windows_list_their_state(api: Api) -> None:
    windows = api.call("GET", f"/halls/{HALL}/windows", "board").get_json()
    assert len(windows) >= 12
    w = windows[0]
    assert {"number", "name", "categories", "status", "staff", "current_ticket"} <= set(w)
    assert w["status"] == "closed" and w["current_ticket"] is None


def test_window_moves_open_pause_resume_close(api: Api) -> None:
    r = api.call("POST", f"/halls/{HALL}/windows/1/open", "staff1")
    assert r.get_json()["status"] == "open" and r.get_json()["staff"] == "staff1"
    seq = api.container.views.last_seq(HALL)
    again = api.call("POST", f"/halls/{HALL}/windows/1/open", "staff1")
    assert again.status_code == 200 and api.container.views.last_seq(HALL) == seq  # no-op, no event
    problem(api.call("POST", f"/halls/{HALL}/windows/1/pause", "staff1", json={}), 422, "invalid_request")
    r = api.call("POST", f"/halls/{HALL}/windows/1/pause", "staff1", json={"reason": "午休"})
    assert r.get_json()["status"] == "paused" and r.get_json()["pause_reason"] == "午休"
    assert api.call("POST", f"/halls/{HALL}/windows/1/resume", "staff1").get_json()["status"] == "open"
    assert api.call("POST", f"/halls/{HALL}/windows/1/close", "staff1").get_json()["status"] == "closed"
    types = [e["type"] for e in api.call("GET", f"/halls/{HALL}/events?after={seq - 1}", "board").get_json()]
    assert types == ["window.opened", "window.paused", "window.resumed", "window.closed"]


def test_unknown_window_is_404(api: Api) -> None:
    problem(api.call("POST", f"/halls/{HALL}/windows/999/open", "manager"), 404, "unknown_window")


# ---------------------------------------------------------------- tickets


def test_issuing_numbers_per_category_and_reports_position_and_wait(api: Api) -> None:
    a = window_serving(api, "A")
    open_window(api, a)
    t1 = issue(api, category="A")
    t2 = issue(api, category="A")
    assert (t1["number"], t2["number"]) == ("A001", "A002")
    assert t1["status"] == "waiting" and t2["position"] == 2
    assert t2["estimated_wait_s"] > 0 and t1["estimated_wait_s"] == 0
    assert t1["status_url"].startswith("http://hall.test/t/")
    assert t1["issued_at"].endswith("+08:00")
    for key in ("id", "number", "hall", "category", "item", "status", "issued_at", "position",
                "estimated_wait_s", "status_url"):
        assert key in t1


def test_issuing_by_item_takes_the_items_category(api: Api) -> None:
    items = api.call("GET", f"/halls/{HALL}/items").get_json()
    item = next(i for i in items if i["category"] == "B")
    open_window(api, window_serving(api, "B"))
    t = issue(api, item=item["code"])
    assert t["category"] == "B" and t["item"] == item["code"] and t["number"] == "B001"


def test_bad_ticket_requests_are_refused_and_change_nothing(api: Api) -> None:
    open_window(api, window_serving(api, "A"))
    before = counts(api)
    url = f"/halls/{HALL}/tickets"
    problem(api.call("POST", url, "kiosk", json={"channel": "kiosk"}), 422, "invalid_request")
    problem(api.call("POST", url, "kiosk", json={"category": "Z", "channel": "kiosk"}), 422, "unknown_category")
    problem(api.call("POST", url, "kiosk", json={"item": "NOPE", "channel": "kiosk"}), 422, "unknown_item")
    problem(api.call("POST", url, "kiosk", json={"category": "A", "channel": "fax"}), 422, "invalid_request")
    problem(api.call("POST", url, "kiosk", json={"category": "A", "channel": "kiosk", "extra": 1}),
            422, "invalid_request")
    good = id_number()
    bad_id = good[:-1] + ("0" if good[-1] != "0" else "1")  # same number, wrong check digit
    for number in (bad_id, "53010219900230123X", "123"):
        problem(api.call("POST", url, "kiosk", json={
            "category": "A", "channel": "kiosk", "applicant": {"id_type": "resident_id", "id_number": number}}),
            422, "invalid_id_number")
    r = api.client.post(f"/api/v1{url}", data="{not json", headers={
        "Authorization": f"Bearer {api.tokens['kiosk']}", "Content-Type": "application/json"})
    problem(r, 400, "malformed_json")
    r = api.client.post(f"/api/v1{url}", data="category=A", headers={
        "Authorization": f"Bearer {api.tokens['kiosk']}", "Content-Type": "application/x-www-form-urlencoded"})
    problem(r, 415, "unsupported_media_type")
    assert counts(api) == before


def test_a_category_without_an_open_window_is_409(api: Api) -> None:
    problem(api.call("POST", f"/halls/{HALL}/tickets", "kiosk", json={"category": "E", "channel": "kiosk"}),
            409, "no_open_window")


def test_a_closed_hall_is_409(api: Api) -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    # The example hall is closed on 1 January (元旦), even at 10:00 local time.
    api.container.bus.context = replace(api.container.bus.context, always_open=False,
                                        now=lambda: datetime(2026, 1, 1, 2, 0, tzinfo=UTC))
    open_window(api, window_serving(api, "A"))
    problem(api.call("POST", f"/halls/{HALL}/tickets", "kiosk", json={"category": "A", "channel": "kiosk"}),
            409, "hall_closed")


def test_daily_limit_per_person_is_429(api: Api) -> None:
    for w in api.call("GET", f"/halls/{HALL}/windows", "manager").get_json():
        open_window(api, w["number"])
    person = {"id_type": "resident_id", "id_number": id_number()}
    limit = api.container.views.hall_config(HALL).rules.tickets_per_person_per_day
    categories = [c["code"] for c in api.call("GET", f"/halls/{HALL}/categories").get_json()]
    assert len(categories) > limit
    for code in categories[:limit]:
        issue(api, category=code, applicant=person)
    problem(api.call("POST", f"/halls/{HALL}/tickets", "kiosk",
                     json={"category": categories[limit], "channel": "kiosk", "applicant": person}),
            429, "ticket_limit")


def test_one_open_ticket_per_person_and_category(api: Api) -> None:
    a = window_serving(api, "A")
    open_window(api, a)
    person = {"id_type": "resident_id", "id_number": id_number()}
    first = issue(api, category="A", applicant=person)
    body = problem(api.call("POST", f"/halls/{HALL}/tickets", "kiosk",
                            json={"category": "A", "channel": "kiosk", "applicant": person}), 409, "already_waiting")
    assert body["number"] == first["number"]
    api.call("POST", f"/tickets/{first['id']}/cancel", "manager")
    assert issue(api, category="A", applicant=person)["number"] == "A002"


def test_idempotency_key_returns_the_same_ticket(api: Api) -> None:
    open_window(api, window_serving(api, "A"))
    body = {"category": "A", "channel": "kiosk"}
    h = {"Idempotency-Key": "kiosk-1-visit-42"}
    r1 = api.call("POST", f"/halls/{HALL}/tickets", "kiosk", json=body, headers=h)
    before = counts(api)
    r2 = api.call("POST", f"/halls/{HALL}/tickets", "kiosk", json=body, headers=h)
    assert r1.status_code == r2.status_code == 201
    assert r1.get_json() == r2.get_json()
    assert counts(api) == before
    problem(api.call("POST", f"/halls/{HALL}/tickets", "kiosk", json={**body, "category": "B"}, headers=h),
            422, "idempotency_key_reused")


def test_applicant_id_never_appears_whole_in_responses_or_events(api: Api) -> None:
    open_window(api, window_serving(api, "A"))
    number = id_number()
    t = issue(api, category="A", applicant={"id_type": "resident_id", "id_number": number})
    assert t["applicant"] == number[:4] + "*" * 10 + number[-4:]
    events = api.call("GET", f"/halls/{HALL}/events", "board").get_json()
    ticket = api.call("GET", f"/tickets/{t['id']}", "board").get_json()
    with api.container.db.read.connect() as conn:
        stored = [json.dumps(r.data) for r in conn.execute(select(tb.events.c.data))]
    assert number not in json.dumps(events) + json.dumps(ticket) + "".join(stored)


def test_full_ticket_life_through_the_api(api: Api) -> None:
    a = window_serving(api, "A")
    open_window(api, a)
    t = issue(api, category="A")
    r = api.call("POST", f"/halls/{HALL}/windows/{a}/call-next", "manager")
    assert r.status_code == 200
    called = r.get_json()["ticket"]
    assert called["id"] == t["id"] and called["status"] == "called" and called["window"] == a
    problem(api.call("POST", f"/halls/{HALL}/windows/{a}/call-next", "manager"), 409, "window_busy")
    r = api.call("POST", f"/tickets/{t['id']}/recall", "manager")
    assert r.get_json()["recall_count"] == 1 and r.get_json()["status"] == "called"
    assert api.call("POST", f"/tickets/{t['id']}/start", "manager").get_json()["status"] == "serving"
    problem(api.call("POST", f"/tickets/{t['id']}/finish", "manager", json={"outcome": "great"}),
            422, "invalid_request")
    done = api.call("POST", f"/tickets/{t['id']}/finish", "manager", json={"outcome": "accepted"}).get_json()
    assert done["status"] == "done" and done["outcome"] == "accepted" and done["finished_at"]
    got = api.call("GET", f"/tickets/{t['id']}", "kiosk").get_json()
    for key in ("status", "position", "window", "called_at", "finished_at", "outcome", "recall_count"):
        assert key in got
    assert got["position"] is None
    assert api.call("POST", f"/halls/{HALL}/windows/{a}/call-next", "manager").status_code == 204
    types = [e["type"] for e in api.call("GET", f"/halls/{HALL}/events", "board").get_json()]
    assert types[-5:] == ["ticket.issued", "ticket.called", "ticket.recalled", "ticket.started", "ticket.finished"]


def test_no_show_requeue_transfer_and_cancel(api: Api) -> None:
    a = window_serving(api, "A")
    open_window(api, a)
    t = issue(api, category="A")
    api.call("POST", f"/halls/{HALL}/windows/{a}/call-next", "manager")
    assert api.call("POST", f"/tickets/{t['id']}/no-show", "manager").get_json()["status"] == "missed"
    problem(api.call("POST", f"/tickets/{t['id']}/start", "manager"), 409, "illegal_transition")
    assert api.call("POST", f"/tickets/{t['id']}/requeue", "manager").get_json()["status"] == "waiting"
    b = window_serving(api, "B")
    open_window(api, b)
    moved = api.call("POST", f"/tickets/{t['id']}/transfer", "manager", json={"category": "B"}).get_json()
    assert moved["status"] == "waiting" and moved["category"] == "B"
    assert moved["number"] == t["number"]  # keeps its number and its original place
    assert moved["issued_at"] == t["issued_at"]
    assert api.call("POST", f"/tickets/{t['id']}/cancel", "manager").get_json()["status"] == "cancelled"
    problem(api.call("POST", f"/tickets/{t['id']}/cancel", "manager"), 409, "illegal_transition")
    problem(api.call("POST", f"/tickets/{t['id']}/transfer", "manager", json={}), 422, "invalid_request")


def test_transferred_ticket_goes_before_later_tickets_of_its_new_queue(api: Api) -> None:
    a, b = window_serving(api, "A"), window_serving(api, "B")
    open_window(api, a)
    open_window(api, b)
    early = issue(api, category="A")
    later = issue(api, category="B")
    api.call("POST", f"/halls/{HALL}/windows/{a}/call-next", "manager")
    api.call("POST", f"/tickets/{early['id']}/start", "manager")
    api.call("POST", f"/tickets/{early['id']}/transfer", "manager", json={"category": "B"})
    # the window serving B first sees the transferred ticket: it was issued earlier
    got = api.call("POST", f"/halls/{HALL}/windows/{b}/call-next", "manager").get_json()["ticket"]
    assert got["id"] == early["id"]
    assert later["id"] != got["id"]


def test_transfer_to_a_window_only_that_window_calls_it(api: Api) -> None:
    a = window_serving(api, "A")
    others = [w["number"] for w in api.call("GET", f"/halls/{HALL}/windows", "manager").get_json()
              if "A" in w["categories"] and w["number"] != a]
    other = others[0]
    open_window(api, a)
    open_window(api, other)
    t = issue(api, category="A")
    r = api.call("POST", f"/tickets/{t['id']}/transfer", "manager", json={"window": other})
    assert r.get_json()["target_window"] == other
    assert api.call("POST", f"/halls/{HALL}/windows/{a}/call-next", "manager").status_code == 204
    got = api.call("POST", f"/halls/{HALL}/windows/{other}/call-next", "manager").get_json()["ticket"]
    assert got["id"] == t["id"]


def test_call_next_on_paused_and_closed_windows(api: Api) -> None:
    problem(api.call("POST", f"/halls/{HALL}/windows/1/call-next", "manager"), 409, "window_closed")
    open_window(api, 1)
    api.call("POST", f"/halls/{HALL}/windows/1/pause", "manager", json={"reason": "系统维护"})
    problem(api.call("POST", f"/halls/{HALL}/windows/1/call-next", "manager"), 409, "window_paused")


def test_staff_only_move_tickets_of_their_own_window(api: Api) -> None:
    open_window(api, 1, "staff1")
    open_window(api, 2, "staff2")
    w1 = api.call("GET", f"/halls/{HALL}/windows", "manager").get_json()[0]
    t = issue(api, category=w1["categories"][0])
    r = api.call("POST", f"/halls/{HALL}/windows/1/call-next", "staff1")
    assert r.get_json()["ticket"]["id"] == t["id"]
    problem(api.call("POST", f"/tickets/{t['id']}/start", "staff2"), 403, "forbidden")
    assert api.call("POST", f"/tickets/{t['id']}/start", "staff1").status_code == 200


def test_unbound_staff_signs_in_at_a_window_and_operates_it(api: Api) -> None:
    r = api.call("POST", f"/halls/{HALL}/windows/5/open", "floater")
    assert r.status_code == 200 and r.get_json()["staff"] == "floater"
    assert api.call("POST", f"/halls/{HALL}/windows/5/pause", "floater", json={"reason": "离开"}).status_code == 200
    problem(api.call("POST", f"/halls/{HALL}/windows/1/pause", "floater", json={"reason": "x"}), 403, "forbidden")


def test_unknown_ticket_is_404(api: Api) -> None:
    problem(api.call("GET", "/tickets/does-not-exist", "board"), 404, "not_found")
    problem(api.call("POST", "/tickets/does-not-exist/start", "manager"), 404, "not_found")


def test_queue_shows_waiting_counts_and_recent_calls(api: Api) -> None:
    a = window_serving(api, "A")
    open_window(api, a)
    for _ in range(3):
        issue(api, category="A")
    api.call("POST", f"/halls/{HALL}/windows/{a}/call-next", "manager")
    q = api.call("GET", f"/halls/{HALL}/queue").get_json()
    cat_a = next(c for c in q["categories"] if c["code"] == "A")
    assert cat_a["waiting"] == 2 and cat_a["longest_wait_s"] >= 0
    assert q["recent_calls"][0]["number"] == "A001" and q["recent_calls"][0]["window"] == a
    assert q["recent_calls"][0]["called_at"].endswith("+08:00")


def test_events_catch_up_in_order_without_gaps(api: Api) -> None:
    open_window(api, window_serving(api, "A"))
    for _ in range(7):
        issue(api, category="A")
    all_events = api.call("GET", f"/halls/{HALL}/events?after=0&limit=1000", "board").get_json()
    seqs = [e["seq"] for e in all_events]
    assert seqs == list(range(1, len(seqs) + 1))
    page = api.call("GET", f"/halls/{HALL}/events?after=3&limit=2", "board").get_json()
    assert [e["seq"] for e in page] == [4, 5]
    e = all_events[-1]
    assert set(e) == {"id", "seq", "type", "hall", "occurred_at", "data"}
    problem(api.call("GET", f"/halls/{HALL}/events?after=-1", "board"), 422, "invalid_request")
    problem(api.call("GET", f"/halls/{HALL}/events?limit=abc", "board"), 422, "invalid_request")


def test_every_event_has_an_outbox_row_in_the_same_commit(api: Api) -> None:
    open_window(api, window_serving(api, "A"))
    issue(api, category="A")
    with api.container.db.read.connect() as conn:
        events = {r.id: r.seq for r in conn.execute(select(tb.events.c.id, tb.events.c.seq))}
        outbox = {r.event_id: r.seq for r in conn.execute(select(tb.outbox.c.event_id, tb.outbox.c.seq))}
    assert events == outbox and events


def test_numbers_widen_past_999(api: Api) -> None:

    from sqlalchemy import insert

    open_window(api, window_serving(api, "A"))
    cfg = api.container.views.hall_config(HALL)
    day = api.container.clock.now().astimezone(cfg.tz).date().isoformat()
    with api.container.db.write.begin() as conn:
        conn.execute(insert(tb.ticket_counters).values(hall=HALL, prefix="A", business_date=day, last_seq=998))
    assert issue(api, category="A")["number"] == "A999"
    assert issue(api, category="A")["number"] == "A1000"


@pytest.mark.parametrize("path", ["/halls/fumin/windows/1/open", "/tickets/x/start"])
def test_wrong_method_is_a_problem_not_a_crash(api: Api, path: str) -> None:
    problem(api.call("GET", path, "manager"), 405, "method_not_allowed")


def test_unknown_path_is_a_problem(api: Api) -> None:
    problem(api.call("GET", "/nowhere", "manager"), 404, "not_found")


def test_credit_codes_are_checked_with_gb_32100(api: Api) -> None:
    open_window(api, window_serving(api, "A"))
    # 91350100M000100Y43 is the worked example of GB 32100 itself.
    t = issue(api, category="A", applicant={"id_type": "uscc", "id_number": "91350100M000100Y43"})
    assert t["applicant"] == "9135**********0Y43"
    before = counts(api)
    for code in ("91350100M000100Y44", "91350100M0001TGQXM", "9135010O"):
        problem(api.call("POST", f"/halls/{HALL}/tickets", "kiosk", json={
            "category": "A", "channel": "kiosk", "applicant": {"id_type": "uscc", "id_number": code}}),
            422, "invalid_id_number")
    assert counts(api) == before


# ---------------------------------------------------------------- evaluations (好差评)


def served(api: Api) -> dict[str, Any]:
    """A ticket issued, called, started and finished at an A window."""
    a = window_serving(api, "A")
    open_window(api, a)
    t = issue(api, category="A")
    api.call("POST", f"/halls/{HALL}/windows/{a}/call-next", "manager")
    api.call("POST", f"/tickets/{t['id']}/start", "manager")
    return api.call("POST", f"/tickets/{t['id']}/finish", "manager", json={"outcome": "completed"}).get_json()


def test_a_rating_pad_rates_a_served_ticket_once(api: Api) -> None:
    api.tokens["pad"] = api.container.auth.add_device(HALL, "evaluator", "pad-1")[1]
    t = served(api)
    r = api.call("POST", f"/tickets/{t['id']}/evaluation", "pad", json={"level": 5, "channel": "pad"})
    assert r.status_code == 201 and r.get_json()["level"] == 5 and r.get_json()["level_name"] == "非常满意"
    problem(api.call("POST", f"/tickets/{t['id']}/evaluation", "pad", json={"level": 4, "channel": "pad"}),
            409, "already_evaluated")
    problem(api.call("POST", f"/tickets/{t['id']}/evaluation", "staff1", json={"level": 5, "channel": "pad"}),
            403, "forbidden")
    types = [e["type"] for e in api.call("GET", f"/halls/{HALL}/events", "board").get_json()]
    assert types.count("evaluation.submitted") == 1


def test_rating_refusals_change_nothing(api: Api) -> None:
    a = window_serving(api, "A")
    open_window(api, a)
    t = issue(api, category="A")
    before = counts(api)
    url = f"/tickets/{t['id']}/evaluation"
    problem(api.call("POST", url, "kiosk", json={"level": 5, "channel": "kiosk"}), 409, "not_served")
    problem(api.call("POST", url, "kiosk", json={"level": 6, "channel": "kiosk"}), 422, "invalid_request")
    problem(api.call("POST", url, "kiosk", json={"level": 5}), 422, "invalid_request")
    problem(api.call("POST", url, "kiosk", json={"level": 5, "channel": "default"}), 422, "invalid_request")
    problem(api.call("POST", url, "board", json={"level": 5, "channel": "pad"}), 403, "forbidden")
    problem(api.call("POST", "/tickets/nope/evaluation", "kiosk", json={"level": 5, "channel": "kiosk"}),
            404, "not_found")
    assert counts(api) == before


def test_the_visitor_rates_from_the_status_page_and_a_manager_closes_the_case(api: Api) -> None:
    t = served(api)
    token = t["status_url"].rsplit("/", 1)[1]
    r = api.client.post(f"/api/v1/t/{token}/evaluation", json={"level": 1, "comment": "材料说明不清楚"})
    assert r.status_code == 201
    e = r.get_json()
    assert (e["channel"], e["rectification"]) == ("mobile", "open") and e["rectification_due"]
    open_cases = api.call("GET", f"/halls/{HALL}/evaluations?rectification=open", "manager").get_json()
    assert [x["id"] for x in open_cases] == [e["id"]]
    problem(api.call("GET", f"/halls/{HALL}/evaluations", "staff1"), 403, "forbidden")
    problem(api.call("POST", f"/evaluations/{e['id']}/close", "manager", json={}), 422, "invalid_request")
    done = api.call("POST", f"/evaluations/{e['id']}/close", "manager", json={"note": "已电话回访并致歉"})
    assert done.status_code == 200 and done.get_json()["rectification"] == "closed"
    problem(api.call("POST", f"/evaluations/{e['id']}/close", "manager", json={"note": "again"}),
            409, "rectification_not_open")
    assert api.call("GET", f"/halls/{HALL}/evaluations?rectification=open", "manager").get_json() == []
    problem(api.client.post("/api/v1/t/no-such-token/evaluation", json={"level": 5}), 404, "not_found")


# ---------------------------------------------------------------- identity vault and audit


def test_a_manager_reveals_an_id_number_and_the_reveal_is_audited(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    open_window(api, window_serving(api, "A"))
    number = id_number()
    t = issue(api, category="A", applicant={"id_type": "resident_id", "id_number": number, "name": "欧阳明月"})
    with api.container.db.read.connect() as conn:
        stored = conn.execute(select(tb.applicants)).one()
    flat = json.dumps([str(v) for v in stored], ensure_ascii=False)
    assert number not in flat and "欧阳明月" not in flat and "欧***" in flat  # sealed, hashed and masked
    problem(api.call("POST", f"/tickets/{t['id']}/applicant/reveal", "staff1", json={"reason": "核对"}),
            403, "forbidden")
    problem(api.call("POST", f"/tickets/{t['id']}/applicant/reveal", "manager", json={"reason": " "}),
            422, "invalid_request")
    assert api.call("GET", f"/halls/{HALL}/audit", "manager").get_json() == []
    with caplog.at_level("INFO"):
        r = api.call("POST", f"/tickets/{t['id']}/applicant/reveal", "manager", json={"reason": "申请人要求更正信息"})
    assert r.status_code == 200 and r.get_json()["id_number"] == number
    assert (r.get_json()["name"], r.get_json()["name_masked"]) == ("欧阳明月", "欧***")
    assert r.headers["Cache-Control"] == "no-store"
    assert number not in caplog.text
    log = api.call("GET", f"/halls/{HALL}/audit", "manager").get_json()
    assert [(e["actor"], e["action"], e["subject"], e["detail"]) for e in log] == [
        ("manager", "reveal_applicant", f"ticket:{t['id']}", "申请人要求更正信息")]
    anonymous = issue(api, category="A")
    problem(api.call("POST", f"/tickets/{anonymous['id']}/applicant/reveal", "manager", json={"reason": "test"}),
            404, "not_found")


def test_managers_list_matters_that_needed_more_than_one_trip(api: Api) -> None:
    a = window_serving(api, "A")
    open_window(api, a)
    person = {"id_type": "resident_id", "id_number": id_number()}
    first = issue(api, category="A", applicant=person)
    api.call("POST", f"/halls/{HALL}/windows/{a}/call-next", "manager")
    api.call("POST", f"/tickets/{first['id']}/start", "manager")
    api.call("POST", f"/tickets/{first['id']}/finish", "manager", json={"outcome": "needs_materials"})
    assert first["matter"]["trip"] == 1
    assert api.call("GET", f"/halls/{HALL}/matters?min_trips=2", "manager").get_json() == []
    listed = api.call("GET", f"/halls/{HALL}/matters?status=open", "manager").get_json()
    assert [(m["id"], m["trips"], m["subject"]) for m in listed] == [(first["matter"]["id"], 1, "category:A")]
    assert listed[0]["applicant"] == person["id_number"][:4] + "*" * 10 + person["id_number"][-4:]
    problem(api.call("GET", f"/halls/{HALL}/matters", "staff1"), 403, "forbidden")
    problem(api.call("GET", f"/halls/{HALL}/matters?status=x", "manager"), 422, "invalid_request")


# ---------------------------------------------------------------- catalogue (事项目录)


def test_managers_edit_export_and_import_the_catalogue(api: Api) -> None:
    exported = api.call("GET", f"/halls/{HALL}/catalogue", "manager").get_json()
    assert exported["hall"] == HALL and len(exported["items"]) >= 40
    new = {**exported["items"][0], "code": "XK-TEST-0001", "name": "测试事项登记", "pinyin": "csssdj"}
    problem(api.call("PUT", f"/halls/{HALL}/items/XK-TEST-0001", "staff1", json=new), 403, "forbidden")
    r = api.call("PUT", f"/halls/{HALL}/items/XK-TEST-0001", "manager", json=new)
    assert r.status_code == 200 and r.get_json()["items"] == len(exported["items"]) + 1
    hits = api.client.get(f"/api/v1/halls/{HALL}/items", query_string={"q": "csssdj"}).get_json()
    assert [i["code"] for i in hits] == ["XK-TEST-0001"]
    open_window(api, window_serving(api, new["category"]))
    assert issue(api, item="XK-TEST-0001")["item"] == "XK-TEST-0001"
    # a bad item is refused with the key that is wrong, and changes nothing
    before = api.call("GET", f"/halls/{HALL}/catalogue", "manager").get_json()
    body = problem(api.call("PUT", f"/halls/{HALL}/items/XK-TEST-0002", "manager",
                            json={**new, "code": "XK-TEST-0002", "category": "Z"}), 422, "invalid_request")
    assert "category" in body["key"]
    assert api.call("GET", f"/halls/{HALL}/catalogue", "manager").get_json() == before
    assert api.call("DELETE", f"/halls/{HALL}/items/XK-TEST-0001", "manager").status_code == 200
    problem(api.call("DELETE", f"/halls/{HALL}/items/XK-TEST-0001", "manager"), 404, "not_found")
    # import the original export back: the catalogue is as it was, at a newer version
    r = api.call("PUT", f"/halls/{HALL}/catalogue", "manager", json=exported)
    assert r.status_code == 200
    after = api.call("GET", f"/halls/{HALL}/catalogue", "manager").get_json()
    assert after["items"] == exported["items"] and after["version"] > exported["version"]
    problem(api.call("PUT", f"/halls/{HALL}/catalogue", "manager", json={"items": []}), 422, "invalid_request")
    events = [e for e in api.call("GET", f"/halls/{HALL}/events?limit=1000", "board").get_json()
              if e["type"] == "catalogue.updated"]
    assert [e["data"]["change"] for e in events] == ["put XK-TEST-0001", "delete XK-TEST-0001", "import"]


def test_staff_may_accept_a_legacy_credit_code_after_checking_the_licence(api: Api) -> None:
    open_window(api, window_serving(api, "A"))
    legacy = {"id_type": "uscc", "id_number": "91350100M0001TGQXM"}  # a lawful pre-2015 pilot code
    body = problem(api.call("POST", f"/halls/{HALL}/tickets", "kiosk",
                            json={"category": "A", "channel": "kiosk", "applicant": legacy}), 422, "invalid_id_number")
    assert body["overridable"] is True
    problem(api.call("POST", f"/halls/{HALL}/tickets", "kiosk", json={
        "category": "A", "channel": "kiosk", "applicant": {**legacy, "override_check": True}}),
        422, "invalid_id_number")  # a kiosk cannot look at a licence
    t = api.call("POST", f"/halls/{HALL}/tickets", "staff1", json={
        "category": "A", "channel": "counter", "applicant": {**legacy, "override_check": True}})
    assert t.status_code == 201
    audit = api.call("GET", f"/halls/{HALL}/audit", "manager").get_json()
    assert [(e["actor"], e["action"], e["subject"]) for e in audit] == [
        ("staff1", "accept_credit_code", "9135**********GQXM")]


def test_a_bundle_is_one_ticket_and_one_matter_for_several_items(api: Api) -> None:
    bundles = api.client.get(f"/api/v1/halls/{HALL}/bundles", query_string={"q": "kbcy"}).get_json()
    assert [b["code"] for b in bundles] == ["YJS53012400001"]
    bundle = bundles[0]
    assert len(bundle["items"]) == 3 and bundle["items"][0]["name"] == "企业设立登记"
    open_window(api, window_serving(api, bundle["category"]))
    person = {"id_type": "resident_id", "id_number": id_number()}
    t = issue(api, bundle=bundle["code"], applicant=person)
    assert (t["bundle"], t["item"], t["category"]) == (bundle["code"], None, bundle["category"])
    matters = api.call("GET", f"/halls/{HALL}/matters", "manager").get_json()
    assert [m["subject"] for m in matters] == [f"bundle:{bundle['code']}"]
    problem(api.call("POST", f"/halls/{HALL}/tickets", "kiosk", json={"bundle": "NOPE", "channel": "kiosk"}),
            422, "unknown_item")
    problem(api.call("POST", f"/halls/{HALL}/tickets", "kiosk",
                     json={"bundle": bundle["code"], "item": bundle["items"][0]["code"], "channel": "kiosk"}),
            422, "invalid_request")


def test_pinyin_initials_find_items(api: Api) -> None:
    for q in ("qysl", "QYSL"):
        hits = api.client.get(f"/api/v1/halls/{HALL}/items", query_string={"q": q}).get_json()
        assert "企业设立登记" in [i["name"] for i in hits]
