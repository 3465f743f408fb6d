"""Domain events: what happened (past tense). Their wire names live in the protocol package."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Event:
    """Something that happened in a hall; `data` is already free of personal data."""

    hall: str
    occurred_at: datetime
    data: Mapping[str, Any]


class TicketIssued(Event):
    """A ticket was issued."""


class TicketCalled(Event):
    """A ticket was called to a window."""


class TicketRecalled(Event):
    """A called ticket was called again."""


class TicketStarted(Event):
    """Service started."""


class TicketFinished(Event):
    """Service finished with an outcome."""


class TicketMissed(Event):
    """The visitor did not come."""


class TicketRequeued(Event):
    """A missed ticket waits again."""


class TicketTransferred(Event):
    """A ticket went to another category or window."""


class TicketCancelled(Event):
    """A waiting ticket was cancelled."""


class WindowOpened(Event):
    """A window opened."""


class WindowPaused(Event):
    """A window paused."""


class WindowResumed(Event):
    """A paused window resumed."""


class WindowClosed(Event):
    """A window closed."""


class EvaluationSubmitted(Event):
    """A served ticket was rated (or got the default rating)."""


class RectificationClosed(Event):
    """A manager closed the rectification case of a bad rating."""


class AppointmentBooked(Event):
    """A slot was booked."""


class AppointmentCancelled(Event):
    """A booking was cancelled; its place is free again."""


class AppointmentCheckedIn(Event):
    """A booking checked in and got its ticket."""


class AppointmentMissed(Event):
    """The day ended without a check-in (no-show)."""


class CatalogueUpdated(Event):
    """Managers changed the hall's service items (事项目录)."""
