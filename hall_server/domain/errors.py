"""Domain errors, each with the stable problem code and HTTP status it maps to.

The codes are the same words as `hall_server.protocol.ProblemCode`; a unit test keeps
the two lists in step (the domain may not import the protocol package).
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused the request; nothing was changed."""

    code = "conflict"
    status = 409
    title = "Conflict"

    def __init__(self, detail: str, *, code: str | None = None, extra: dict | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.extra = extra or {}


class InvalidInput(DomainError):
    """The request is well-formed JSON but a value is wrong."""

    code = "invalid_request"
    status = 422
    title = "Invalid request"


class InvalidIdNumber(InvalidInput):
    """A resident ID number or unified social credit code fails its check."""

    code = "invalid_id_number"
    title = "Invalid ID number"


class UnknownCategory(InvalidInput):
    """The hall has no such category."""

    code = "unknown_category"
    title = "Unknown category"


class UnknownItem(InvalidInput):
    """The hall has no such service item."""

    code = "unknown_item"
    title = "Unknown service item"


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    code = "not_found"
    status = 404
    title = "Not found"


class UnknownWindow(NotFound):
    """The hall has no window with that number."""

    code = "unknown_window"
    title = "Unknown window"


class Forbidden(DomainError):
    """The caller is authenticated but may not do this here."""

    code = "forbidden"
    status = 403
    title = "Forbidden"


class IllegalTransition(DomainError):
    """The ticket's state does not allow the move."""

    code = "illegal_transition"
    title = "Illegal transition"


class WindowBusy(DomainError):
    """The window still holds a called or serving ticket."""

    code = "window_busy"
    title = "Window busy"


class WindowClosed(DomainError):
    """The window is closed."""

    code = "window_closed"
    title = "Window closed"


class WindowPaused(DomainError):
    """The window is paused."""

    code = "window_paused"
    title = "Window paused"


class HallClosed(DomainError):
    """The hall is outside its opening hours or on a holiday."""

    code = "hall_closed"
    title = "Hall closed"


class NoOpenWindow(DomainError):
    """No open window serves the category right now."""

    code = "no_open_window"
    title = "No open window"


class RecallLimit(DomainError):
    """The ticket was recalled as often as the hall's rules allow."""

    code = "recall_limit"
    title = "Recall limit reached"


class ConcurrentUpdate(DomainError):
    """Someone else changed the same thing at the same moment; reload and retry."""

    code = "concurrent_update"
    title = "Concurrent update"


class TicketLimit(DomainError):
    """The person reached the hall's daily ticket limit."""

    code = "ticket_limit"
    status = 429
    title = "Ticket limit reached"


class IdempotencyKeyReused(InvalidInput):
    """The same Idempotency-Key came back with a different request body."""

    code = "idempotency_key_reused"
    title = "Idempotency key reused"


class Unauthenticated(DomainError):
    """No valid token was presented."""

    code = "unauthenticated"
    status = 401
    title = "Authentication required"


class BadCredentials(Unauthenticated):
    """Wrong user name or password."""

    code = "bad_credentials"
    title = "Bad credentials"


class TooManyAttempts(DomainError):
    """Login is throttled after repeated failures."""

    code = "too_many_attempts"
    status = 429
    title = "Too many attempts"


class NotServed(DomainError):
    """Only a served ticket can be rated."""

    code = "not_served"
    title = "Not served"


class AlreadyEvaluated(DomainError):
    """The ticket has its one evaluation already."""

    code = "already_evaluated"
    title = "Already evaluated"


class RectificationNotOpen(DomainError):
    """There is no open rectification case to close."""

    code = "rectification_not_open"
    title = "No open rectification"


class SlotFull(DomainError):
    """The slot has no place left."""

    code = "slot_full"
    title = "Slot full"


class SlotUnavailable(InvalidInput):
    """The slot is in the past, too far ahead, or not one of the hall's slots."""

    code = "slot_unavailable"
    title = "Slot unavailable"


class OutsideCheckInWindow(DomainError):
    """Too early or too late to check in."""

    code = "outside_check_in_window"
    title = "Outside the check-in window"


class AlreadyCheckedIn(DomainError):
    """The booking made its ticket already."""

    code = "already_checked_in"
    title = "Already checked in"


class BookingBlocked(DomainError):
    """Too many no-shows: booking is blocked for a while."""

    code = "booking_blocked"
    title = "Booking blocked"


class AlreadyBooked(DomainError):
    """One booking per person, category and day."""

    code = "already_booked"
    title = "Already booked"


class AlreadyWaiting(DomainError):
    """The person already holds a ticket of this category that is not finished."""

    code = "already_waiting"
    title = "Already waiting"


class NotEligible(InvalidInput):
    """The person does not qualify for the priority group asked for."""

    code = "not_eligible"
    title = "Not eligible"
