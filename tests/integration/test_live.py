"""The live stream through Flask-SocketIO's test client: auth, snapshot first, events after commit."""

from __future__ import annotations

from typing import Any

from flask_socketio import SocketIOTestClient

from hall_server.domain import commands as c
from hall_server.domain.errors import InvalidIdNumber
from hall_server.protocol.live import NAMESPACE
from tests.integration.conftest import HALL, Api
from tests.integration.test_api import issue, open_window, window_serving


def connect(api: Api, token: str, hall: str = HALL) -> SocketIOTestClient:
    app = api.client.application
    return app.extensions["socketio"].test_client(app, namespace=NAMESPACE, auth={"token": token, "hall": hall})


def received(client: SocketIOTestClient) -> list[dict[str, Any]]:
    return client.get_received(NAMESPACE)


def test_a_board_gets_the_snapshot_first_then_each_event_as_it_commits(api: Api) -> None:
    a = window_serving(api, "A")
    open_window(api, a)
    board = connect(api, api.tokens["board"])
    assert board.is_connected(NAMESPACE)
    first = received(board)
    assert [m["name"] for m in first] == ["snapshot"]
    snap = first[0]["args"][0]
    assert set(snap) == {"seq", "queue", "windows"} and snap["seq"] == api.container.views.last_seq(HALL)
    t = issue(api, category="A")
    api.call("POST", f"/halls/{HALL}/windows/{a}/call-next", "manager")
    events = received(board)
    assert [m["name"] for m in events] == ["ticket.issued", "ticket.called"]
    envelopes = [m["args"][0] for m in events]
    assert [e["seq"] for e in envelopes] == [snap["seq"] + 1, snap["seq"] + 2]
    assert envelopes[1]["data"]["ticket"]["number"] == t["number"] and envelopes[1]["data"]["window"] == a
    # exactly what the catch-up endpoint returns after the snapshot's seq
    caught_up = api.call("GET", f"/halls/{HALL}/events?after={snap['seq']}", "board").get_json()
    assert caught_up == envelopes


def test_bad_tokens_and_other_halls_are_refused(api: Api) -> None:
    assert not connect(api, "not-a-token").is_connected(NAMESPACE)
    assert not connect(api, api.tokens["manager"], hall="elsewhere").is_connected(NAMESPACE)
    assert not connect(api, api.tokens["admin"], hall="elsewhere").is_connected(NAMESPACE)  # unknown hall
    app = api.client.application
    anonymous = app.extensions["socketio"].test_client(app, namespace=NAMESPACE)
    assert not anonymous.is_connected(NAMESPACE)


def test_nothing_is_emitted_for_a_refused_command(api: Api) -> None:
    open_window(api, window_serving(api, "A"))
    board = connect(api, api.tokens["board"])
    received(board)
    kiosk = api.container.auth.authenticate(api.tokens["kiosk"])
    assert kiosk is not None
    try:
        api.container.bus.handle(c.IssueTicket(kiosk, HALL, "kiosk", category="A",
                                               applicant=c.Applicant("resident_id", "123")))
    except InvalidIdNumber:
        pass
    assert received(board) == []
