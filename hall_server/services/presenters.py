"""Plain-JSON shapes of domain objects, as API.md and the events carry them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hall_server.domain.appointments import Appointment
from hall_server.domain.evaluations import LEVEL_ZH, Evaluation
from hall_server.domain.tickets import Ticket, TicketStatus
from hall_server.domain.windows import Window


def jsonable(value: Any) -> Any:
    """A copy made of JSON types only (datetimes as ISO strings, tuples as lists)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value


def rfc3339(instant: datetime | None, tz: ZoneInfo) -> str | None:
    """An aware instant as RFC 3339 in the hall's time zone (`2026-11-29T09:05:00+08:00`)."""
    if instant is None:
        return None
    return instant.astimezone(tz).isoformat(timespec="seconds")


def ticket_public(t: Ticket, tz: ZoneInfo) -> dict[str, Any]:
    """A ticket's fields that anyone may see: no token, applicant masked only."""
    return {
        "id": t.id,
        "number": t.number,
        "hall": t.hall,
        "category": t.category,
        "item": t.item,
        "bundle": t.bundle,
        "channel": t.channel.value,
        "status": t.status.value,
        "priority_group": t.priority_group,
        "appointment": t.appointment,
        "applicant": t.applicant_masked,
        "window": t.window,
        "target_window": t.target_window,
        "issued_at": rfc3339(t.issued_at, tz),
        "called_at": rfc3339(t.called_at, tz),
        "started_at": rfc3339(t.started_at, tz),
        "finished_at": rfc3339(t.finished_at, tz),
        "outcome": t.outcome.value if t.outcome else None,
        "recall_count": t.recall_count,
        "matter": {"id": t.matter_id, "trip": t.trip} if t.matter_id else None,
    }


def ticket_resource(
    t: Ticket, tz: ZoneInfo, *, position: int | None, estimated_wait_s: int | None, status_url: str
) -> dict[str, Any]:
    """The ticket as the API returns it: public fields plus position, estimate and status URL."""
    body = ticket_public(t, tz)
    waiting = t.status is TicketStatus.WAITING
    body["position"] = position if waiting else None
    body["estimated_wait_s"] = estimated_wait_s if waiting else None
    body["status_url"] = status_url
    return body


def window_public(w: Window, tz: ZoneInfo, current: Ticket | None) -> dict[str, Any]:
    """A window as GET .../windows returns it."""
    return {
        "number": w.number,
        "name": w.name,
        "categories": list(w.categories),
        "status": w.status.value,
        "pause_reason": w.pause_reason,
        "staff": w.staff,
        "status_since": rfc3339(w.status_since, tz),
        "current_ticket": (
            {"id": current.id, "number": current.number, "status": current.status.value,
             "category": current.category, "called_at": rfc3339(current.called_at, tz)}
            if current is not None
            else None
        ),
    }


def evaluation_public(e: Evaluation, tz: ZoneInfo) -> dict[str, Any]:
    """An evaluation as the API returns it."""
    return {
        "id": e.id,
        "hall": e.hall,
        "ticket": e.ticket_id,
        "level": int(e.level),
        "level_name": LEVEL_ZH[int(e.level)],
        "channel": e.channel.value,
        "comment": e.comment,
        "submitted_at": rfc3339(e.submitted_at, tz),
        "window": e.window,
        "staff": e.staff,
        "rectification": e.rectification.value if e.rectification else None,
        "rectification_due": e.rectification_due.isoformat() if e.rectification_due else None,
        "rectification_note": e.rectification_note,
        "closed_by": e.closed_by,
        "closed_at": rfc3339(e.closed_at, tz),
    }


def appointment_public(a: Appointment, tz: ZoneInfo) -> dict[str, Any]:
    """A booking as the API returns it (to the one who booked: with its QR code)."""
    return {
        "id": a.id,
        "hall": a.hall,
        "code": a.code,
        "category": a.category,
        "item": a.item,
        "slot_start": rfc3339(a.slot_start, tz),
        "slot_end": rfc3339(a.slot_end, tz),
        "status": a.status.value,
        "channel": a.channel,
        "applicant": a.applicant_masked,
        "ticket": a.ticket_id,
        "checked_in_at": rfc3339(a.checked_in_at, tz),
    }
