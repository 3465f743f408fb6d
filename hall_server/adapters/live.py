"""LivePublisher over Flask-SocketIO: committed events to the hall's room on the /hall namespace."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from flask_socketio import SocketIO

from hall_server.protocol.live import NAMESPACE, hall_room

log = logging.getLogger(__name__)

class SocketIOPublisher:
    """Emit each committed event under its own type, with the envelope as payload."""

    def __init__(self, socketio: SocketIO) -> None:
        self._socketio = socketio

    def publish(self, envelopes: Sequence[dict[str, Any]]) -> None:
        """Send envelopes (already committed, in seq order) to their halls' rooms."""
        for e in envelopes:
            self._socketio.emit(e["type"], e, namespace=NAMESPACE, to=hall_room(e["hall"]))
