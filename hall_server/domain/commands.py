"""Commands: what a caller asks the hall to do (imperative, immutable)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hall_server.domain.actors import Actor


@dataclass(frozen=True)
class Applicant:
    """An identity document as presented (the full number never leaves the handler)."""

    id_type: str
    id_number: str
    name: str | None = None
    # Staff who checked the business licence accept a lawful pre-2015 credit code whose
    # check character fails (GB 32100 pilots); the override is audited.
    override_check: bool = False

    def __repr__(self) -> str:  # never let a full number reach a log through repr()
        return f"Applicant(id_type={self.id_type!r}, id_number=<hidden>)"


@dataclass(frozen=True)
class Command:
    """Base of every command; `actor` is who asks."""

    actor: Actor


@dataclass(frozen=True)
class IssueTicket(Command):
    """Issue a ticket for a category or a service item."""

    hall: str
    channel: str
    category: str | None = None
    item: str | None = None
    applicant: Applicant | None = None
    priority_group: str | None = None
    priority_reason: str | None = None
    bundle: str | None = None
    idempotency_key: str | None = None
    request_fingerprint: str | None = None


@dataclass(frozen=True)
class CallNext(Command):
    """Call the next ticket to a window."""

    hall: str
    window: int


@dataclass(frozen=True)
class TicketCommand(Command):
    """A move on one ticket."""

    ticket_id: str


@dataclass(frozen=True)
class RecallTicket(TicketCommand):
    """Call the ticket again (重呼)."""


@dataclass(frozen=True)
class StartService(TicketCommand):
    """The visitor arrived: start serving."""


@dataclass(frozen=True)
class FinishService(TicketCommand):
    """Service ended with an outcome."""

    outcome: str = "completed"


@dataclass(frozen=True)
class MarkNoShow(TicketCommand):
    """The visitor did not come (过号)."""


@dataclass(frozen=True)
class RequeueTicket(TicketCommand):
    """A missed visitor came back."""


@dataclass(frozen=True)
class TransferTicket(TicketCommand):
    """Send the ticket to another category or window."""

    category: str | None = None
    window: int | None = None


@dataclass(frozen=True)
class CancelTicket(TicketCommand):
    """Void a waiting ticket."""


@dataclass(frozen=True)
class WindowCommand(Command):
    """A move on one window."""

    hall: str
    window: int


@dataclass(frozen=True)
class OpenWindow(WindowCommand):
    """Open the window (staff sign in)."""


@dataclass(frozen=True)
class PauseWindow(WindowCommand):
    """Pause the window with a reason (暂停服务)."""

    reason: str = ""


@dataclass(frozen=True)
class ResumeWindow(WindowCommand):
    """Resume a paused window."""


@dataclass(frozen=True)
class CloseWindow(WindowCommand):
    """Close the window (staff sign out)."""


@dataclass(frozen=True)
class CloseDay(Command):
    """Cancel the hall's tickets left over from earlier business days (housekeeping)."""

    hall: str
    limit: int = 500


@dataclass(frozen=True)
class SubmitEvaluation(Command):
    """Rate a served ticket (by id, or by the token of its status page)."""

    level: int
    channel: str
    ticket_id: str | None = None
    ticket_token: str | None = None
    comment: str = ""


@dataclass(frozen=True)
class CloseRectification(Command):
    """Close the rectification case of a bad rating with what was done."""

    evaluation_id: str
    note: str


@dataclass(frozen=True)
class ApplyDefaultEvaluations(Command):
    """Give 基本满意 to served tickets not rated within the hall's working days (housekeeping)."""

    hall: str
    limit: int = 500


@dataclass(frozen=True)
class BookAppointment(Command):
    """Book a slot for a person (category or item)."""

    hall: str
    slot_start: datetime
    applicant: Applicant
    channel: str
    category: str | None = None
    item: str | None = None


@dataclass(frozen=True)
class CancelAppointment(Command):
    """Cancel a booking."""

    appointment_id: str


@dataclass(frozen=True)
class CheckIn(Command):
    """Check a booking in (by its QR code or by the person's ID) and issue its ticket."""

    hall: str
    code: str | None = None
    applicant: Applicant | None = None


@dataclass(frozen=True)
class CloseAppointmentDay(Command):
    """Mark bookings of ended days that never checked in as no-shows (housekeeping)."""

    hall: str
    limit: int = 500


@dataclass(frozen=True)
class RevealApplicant(Command):
    """A manager looks at a ticket's full ID number, for a stated reason (audited)."""

    ticket_id: str
    reason: str
