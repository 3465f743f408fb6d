"""Ticket numbers: category prefix + daily sequence in the hall's time zone (A001, A1000)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo


def business_date(instant: datetime, tz: ZoneInfo) -> date:
    """The hall-local calendar day an aware instant belongs to (numbering resets at local midnight)."""
    if instant.tzinfo is None:
        raise ValueError("business_date needs an aware datetime")
    return instant.astimezone(tz).date()


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """The aware instant a hall-local day begins (its local midnight)."""
    return datetime.combine(day, time(0, 0), tzinfo=tz)


def format_number(prefix: str, seq: int) -> str:
    """`A` + 1 -> `A001`; the sequence widens past 999 (`A1000`) instead of wrapping."""
    if seq < 1:
        raise ValueError("sequence numbers start at 1")
    return f"{prefix}{seq:03d}"


def parse_number(number: str) -> tuple[str, int]:
    """Split a ticket number into its prefix and sequence (`A012` -> ("A", 12))."""
    i = len(number)
    while i > 0 and number[i - 1].isdigit():
        i -= 1
    if i == len(number) or i == 0:
        raise ValueError(f"not a ticket number: {number!r}")
    return number[:i], int(number[i:])
