"""Appointments (预约取号): slots from opening hours, signed QR codes, the check-in window.

A day's slots split each opening period into slots of `appointment_slot_minutes`; each
slot takes `appointment_slot_capacity` bookings per category. A booking carries a code
for its QR: random, and signed with the server secret so a kiosk's scan of anything
else is refused before any lookup. It checks in from `check_in_before_min` before its
start to `check_in_after_min` after; a visitor who comes later queues as a walk-in. At
the end of the day an unchecked booking is a no-show, and `no_show_limit` no-shows in
`no_show_window_days` block new bookings for `no_show_block_days`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from hall_server.domain.errors import AlreadyCheckedIn, IllegalTransition, OutsideCheckInWindow
from hall_server.domain.hall import HallConfig

ALL_DAY = ((time(0, 0), None),)


class AppointmentStatus(StrEnum):
    """Where a booking is in its life."""

    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


@dataclass(frozen=True)
class Slot:
    """One bookable period of a day."""

    start: datetime
    end: datetime


def slots_on(cfg: HallConfig, day: date, *, always_open: bool = False) -> list[Slot]:
    """The day's slots in the hall's time zone (around the clock when the hall is always open)."""
    minutes = cfg.rules.appointment_slot_minutes
    tz = cfg.tz
    if always_open:
        periods: tuple[tuple[time, time | None], ...] = ALL_DAY
    else:
        periods = cfg.hours.hours_on(day).periods
    out: list[Slot] = []
    for start, end in periods:
        cursor = datetime.combine(day, start, tzinfo=tz)
        stop = datetime.combine(day, end, tzinfo=tz) if end is not None else datetime.combine(
            day + timedelta(days=1), time(0, 0), tzinfo=tz)
        while cursor + timedelta(minutes=minutes) <= stop:
            out.append(Slot(cursor, cursor + timedelta(minutes=minutes)))
            cursor += timedelta(minutes=minutes)
    return out


def find_slot(cfg: HallConfig, start: datetime, *, always_open: bool = False) -> Slot | None:
    """The slot that begins exactly at `start`, if the hall has one."""
    local = start.astimezone(cfg.tz)
    return next((s for s in slots_on(cfg, local.date(), always_open=always_open) if s.start == local), None)


def _sign(secret: bytes, nonce: str) -> str:
    mac = hmac.new(secret, f"appointment:{nonce}".encode(), hashlib.sha256).digest()
    return base64.b32encode(mac[:5]).decode().rstrip("=")


def new_code(secret: bytes) -> str:
    """A fresh QR code: 16 random base32 characters and an 8-character signature."""
    nonce = base64.b32encode(secrets.token_bytes(10)).decode().rstrip("=")
    return f"{nonce}-{_sign(secret, nonce)}"


def code_is_authentic(secret: bytes, code: str) -> bool:
    """Whether a scanned code was made by this server (constant-time)."""
    nonce, _, signature = code.strip().upper().partition("-")
    if not nonce or not signature or not code.isascii():
        return False  # compare_digest refuses non-ASCII strings; no code of ours has any
    return hmac.compare_digest(_sign(secret, nonce), signature)


def blocked_until(no_shows: list[datetime], limit: int, window_days: int, block_days: int) -> datetime | None:
    """When a person's booking block ends, or None: `limit` no-shows within `window_days`
    block new bookings for `block_days` from the last of them."""
    times = sorted(no_shows)
    until: datetime | None = None
    for i in range(limit - 1, len(times)):
        if times[i] - times[i - limit + 1] <= timedelta(days=window_days):
            end = times[i] + timedelta(days=block_days)
            until = end if until is None or end > until else until
    return until


@dataclass
class Appointment:
    """A booking of one slot by one person for one category (or item)."""

    id: str
    hall: str
    category: str
    slot_start: datetime
    slot_end: datetime
    applicant_key: str
    applicant_masked: str
    channel: str
    code: str
    created_at: datetime
    item: str | None = None
    status: AppointmentStatus = AppointmentStatus.BOOKED
    ticket_id: str | None = None
    checked_in_at: datetime | None = None
    version: int = 0

    def check_window(self, cfg: HallConfig) -> tuple[datetime, datetime]:
        """From when until when the booking may check in."""
        r = cfg.rules
        return (self.slot_start - timedelta(minutes=r.check_in_before_min),
                self.slot_start + timedelta(minutes=r.check_in_after_min))

    def check_in(self, now: datetime, cfg: HallConfig) -> None:
        """Check the booking in, inside its check-in window only (the caller links its ticket)."""
        if self.status is AppointmentStatus.CHECKED_IN:
            raise AlreadyCheckedIn("该预约已经签到取号。This appointment has checked in already.")
        if self.status is not AppointmentStatus.BOOKED:
            raise IllegalTransition("该预约已取消或已过期。This appointment is cancelled or expired.",
                                    extra={"appointment_status": self.status.value})
        opens, closes = self.check_window(cfg)
        if not opens <= now <= closes:
            local = cfg.tz
            raise OutsideCheckInWindow(
                f"请在 {opens.astimezone(local):%H:%M} 至 {closes.astimezone(local):%H:%M} 之间签到；"
                f"现在可按普通号排队。Check in between {opens.astimezone(local):%H:%M} and "
                f"{closes.astimezone(local):%H:%M}; you may take a walk-in ticket now.",
                extra={"check_in_from": opens.astimezone(local).isoformat(timespec="seconds"),
                       "check_in_until": closes.astimezone(local).isoformat(timespec="seconds")},
            )
        self.status = AppointmentStatus.CHECKED_IN
        self.checked_in_at = now
        self.version += 1

    def cancel(self) -> None:
        """The visitor (or staff) cancels; the place becomes free again."""
        if self.status is not AppointmentStatus.BOOKED:
            raise IllegalTransition("只能取消尚未签到的预约。Only a booked appointment can be cancelled.",
                                    extra={"appointment_status": self.status.value})
        self.status = AppointmentStatus.CANCELLED
        self.version += 1

    def miss(self) -> None:
        """The day ended without a check-in."""
        if self.status is not AppointmentStatus.BOOKED:
            raise IllegalTransition("该预约不是待签到状态。This appointment is not waiting for a check-in.")
        self.status = AppointmentStatus.NO_SHOW
        self.version += 1
