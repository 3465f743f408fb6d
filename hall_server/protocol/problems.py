"""Stable problem codes (RFC 9457 `code` member) and the HTTP status each one carries."""

from __future__ import annotations

from enum import StrEnum


class ProblemCode(StrEnum):
    """Machine words that clients may branch on; never renamed once published."""

    # 400 / 422: the request itself is wrong
    MALFORMED_JSON = "malformed_json"
    INVALID_REQUEST = "invalid_request"
    INVALID_ID_NUMBER = "invalid_id_number"
    UNKNOWN_CATEGORY = "unknown_category"
    UNKNOWN_ITEM = "unknown_item"
    UNKNOWN_WINDOW = "unknown_window"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    # 401 / 403
    UNAUTHENTICATED = "unauthenticated"
    BAD_CREDENTIALS = "bad_credentials"
    FORBIDDEN = "forbidden"
    # 404 / 405
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    # 409: the hall's state forbids it
    ILLEGAL_TRANSITION = "illegal_transition"
    WINDOW_BUSY = "window_busy"
    WINDOW_CLOSED = "window_closed"
    WINDOW_PAUSED = "window_paused"
    HALL_CLOSED = "hall_closed"
    NO_OPEN_WINDOW = "no_open_window"
    RECALL_LIMIT = "recall_limit"
    CONCURRENT_UPDATE = "concurrent_update"
    CONFLICT = "conflict"
    NOT_SERVED = "not_served"
    ALREADY_EVALUATED = "already_evaluated"
    RECTIFICATION_NOT_OPEN = "rectification_not_open"
    SLOT_FULL = "slot_full"
    SLOT_UNAVAILABLE = "slot_unavailable"
    OUTSIDE_CHECK_IN_WINDOW = "outside_check_in_window"
    ALREADY_CHECKED_IN = "already_checked_in"
    BOOKING_BLOCKED = "booking_blocked"
    ALREADY_BOOKED = "already_booked"
    ALREADY_WAITING = "already_waiting"
    NOT_ELIGIBLE = "not_eligible"
    # 413 / 415
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    # 429
    TICKET_LIMIT = "ticket_limit"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    # 5xx
    INTERNAL_ERROR = "internal_error"
    SERVICE_UNAVAILABLE = "service_unavailable"


PROBLEM_STATUS: dict[ProblemCode, int] = {
    ProblemCode.MALFORMED_JSON: 400,
    ProblemCode.INVALID_REQUEST: 422,
    ProblemCode.INVALID_ID_NUMBER: 422,
    ProblemCode.UNKNOWN_CATEGORY: 422,
    ProblemCode.UNKNOWN_ITEM: 422,
    ProblemCode.UNKNOWN_WINDOW: 404,
    ProblemCode.IDEMPOTENCY_KEY_REUSED: 422,
    ProblemCode.UNAUTHENTICATED: 401,
    ProblemCode.BAD_CREDENTIALS: 401,
    ProblemCode.FORBIDDEN: 403,
    ProblemCode.NOT_FOUND: 404,
    ProblemCode.METHOD_NOT_ALLOWED: 405,
    ProblemCode.ILLEGAL_TRANSITION: 409,
    ProblemCode.WINDOW_BUSY: 409,
    ProblemCode.WINDOW_CLOSED: 409,
    ProblemCode.WINDOW_PAUSED: 409,
    ProblemCode.HALL_CLOSED: 409,
    ProblemCode.NO_OPEN_WINDOW: 409,
    ProblemCode.RECALL_LIMIT: 409,
    ProblemCode.CONCURRENT_UPDATE: 409,
    ProblemCode.CONFLICT: 409,
    ProblemCode.NOT_SERVED: 409,
    ProblemCode.ALREADY_EVALUATED: 409,
    ProblemCode.RECTIFICATION_NOT_OPEN: 409,
    ProblemCode.SLOT_FULL: 409,
    ProblemCode.SLOT_UNAVAILABLE: 422,
    ProblemCode.OUTSIDE_CHECK_IN_WINDOW: 409,
    ProblemCode.ALREADY_CHECKED_IN: 409,
    ProblemCode.BOOKING_BLOCKED: 409,
    ProblemCode.ALREADY_BOOKED: 409,
    ProblemCode.ALREADY_WAITING: 409,
    ProblemCode.NOT_ELIGIBLE: 422,
    ProblemCode.PAYLOAD_TOO_LARGE: 413,
    ProblemCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ProblemCode.TICKET_LIMIT: 429,
    ProblemCode.TOO_MANY_ATTEMPTS: 429,
    ProblemCode.INTERNAL_ERROR: 500,
    ProblemCode.SERVICE_UNAVAILABLE: 503,
}


def problem_type_uri(code: str) -> str:
    """The `type` URI of a problem: a stable, dereferenceable-in-docs identifier."""
    return f"https://onedoor.example/problems/{code}"
