"""The live stream (API.md "Live events"): Socket.IO namespace /hall, token auth, snapshot first.

A client connects with `auth={"token", "hall"}`; a bad token, or a hall the token may not
see, refuses the connection. On connect the client joins the hall's room and gets
`snapshot` (`{"seq", "queue", "windows"}`); from then on every committed event of the
hall arrives under its own type with its envelope (emitted after commit by the bus, so
nothing of a rolled-back transaction is ever sent). A client that was away asks
GET /api/v1/halls/{hall}/events?after=SEQ for what it missed.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from flask_socketio import Namespace, SocketIO, emit, join_room

from hall_server.domain.errors import DomainError
from hall_server.protocol.live import NAMESPACE, SNAPSHOT, hall_room

log = logging.getLogger(__name__)

class HallNamespace(Namespace):
    """Boards, consoles, dashboards and kiosks of one hall."""

    def on_connect(self, auth: dict[str, Any] | None = None) -> None:
        """Check the token and the hall; join the room; send the snapshot."""
        container = current_app.extensions["onedoor"]
        token = auth.get("token") if isinstance(auth, dict) else None
        hall = auth.get("hall") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not isinstance(hall, str) or len(hall) > 32:
            raise ConnectionRefusedError("unauthenticated: connect with auth={token, hall}")
        actor = container.auth.authenticate(token)
        if actor is None:
            raise ConnectionRefusedError("unauthenticated: the token is not valid")
        if not actor.sees_hall(hall):
            raise ConnectionRefusedError("forbidden: the token is not valid for this hall")
        try:
            snapshot = container.views.snapshot(hall)
        except DomainError as e:  # an unknown hall
            raise ConnectionRefusedError(f"{e.code}: {e.detail}")
        join_room(hall_room(hall))
        emit(SNAPSHOT, snapshot)


def create_socketio(app: Any, message_queue: str | None) -> SocketIO:
    """Flask-SocketIO in threading mode (simple-websocket), on the app's own port."""
    socketio = SocketIO(app, async_mode="threading", message_queue=message_queue,
                        cors_allowed_origins=[], logger=False, engineio_logger=False)
    socketio.on_namespace(HallNamespace(NAMESPACE))
    return socketio
