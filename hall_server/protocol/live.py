"""Names of the live stream: the Socket.IO namespace and the room of a hall."""

from __future__ import annotations

NAMESPACE = "/hall"
SNAPSHOT = "snapshot"


def hall_room(hall: str) -> str:
    """The Socket.IO room of a hall: its boards, consoles, dashboards and kiosks."""
    return f"hall:{hall}"
