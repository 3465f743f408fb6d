"""Event type names and the event envelope, as API.md ("Events") defines them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    """Wire names of hall events: dotted lower case, defined here once."""

    TICKET_ISSUED = "ticket.issued"
    TICKET_CALLED = "ticket.called"
    TICKET_RECALLED = "ticket.recalled"
    TICKET_STARTED = "ticket.started"
    TICKET_FINISHED = "ticket.finished"
    TICKET_MISSED = "ticket.missed"
    TICKET_REQUEUED = "ticket.requeued"
    TICKET_TRANSFERRED = "ticket.transferred"
    TICKET_CANCELLED = "ticket.cancelled"
    WINDOW_OPENED = "window.opened"
    WINDOW_PAUSED = "window.paused"
    WINDOW_RESUMED = "window.resumed"
    WINDOW_CLOSED = "window.closed"
    APPOINTMENT_BOOKED = "appointment.booked"
    APPOINTMENT_CHECKED_IN = "appointment.checked_in"
    APPOINTMENT_CANCELLED = "appointment.cancelled"
    APPOINTMENT_MISSED = "appointment.missed"
    EVALUATION_SUBMITTED = "evaluation.submitted"
    RECTIFICATION_CLOSED = "evaluation.rectification_closed"
    CATALOGUE_UPDATED = "catalogue.updated"


# Domain event class name -> wire name. The domain knows nothing of the wire, so the
# adapters translate through this table when they store and publish an event.
EVENT_TYPES: dict[str, EventType] = {
    "TicketIssued": EventType.TICKET_ISSUED,
    "TicketCalled": EventType.TICKET_CALLED,
    "TicketRecalled": EventType.TICKET_RECALLED,
    "TicketStarted": EventType.TICKET_STARTED,
    "TicketFinished": EventType.TICKET_FINISHED,
    "TicketMissed": EventType.TICKET_MISSED,
    "TicketRequeued": EventType.TICKET_REQUEUED,
    "TicketTransferred": EventType.TICKET_TRANSFERRED,
    "TicketCancelled": EventType.TICKET_CANCELLED,
    "WindowOpened": EventType.WINDOW_OPENED,
    "WindowPaused": EventType.WINDOW_PAUSED,
    "WindowResumed": EventType.WINDOW_RESUMED,
    "WindowClosed": EventType.WINDOW_CLOSED,
    "AppointmentBooked": EventType.APPOINTMENT_BOOKED,
    "AppointmentCheckedIn": EventType.APPOINTMENT_CHECKED_IN,
    "AppointmentCancelled": EventType.APPOINTMENT_CANCELLED,
    "AppointmentMissed": EventType.APPOINTMENT_MISSED,
    "EvaluationSubmitted": EventType.EVALUATION_SUBMITTED,
    "RectificationClosed": EventType.RECTIFICATION_CLOSED,
    "CatalogueUpdated": EventType.CATALOGUE_UPDATED,
}

ENVELOPE_KEYS = ("id", "seq", "type", "hall", "occurred_at", "data")


def envelope(
    event_id: str, seq: int, type_: str, hall: str, occurred_at: str, data: dict[str, Any]
) -> dict[str, Any]:
    """Build the event envelope `{"id", "seq", "type", "hall", "occurred_at", "data"}`."""
    return {
        "id": event_id,
        "seq": seq,
        "type": str(type_),
        "hall": hall,
        "occurred_at": occurred_at,
        "data": data,
    }
