"""Matters and trips (最多跑一次): each visit of a person for a matter is a trip.

A matter is one person's business with one service item (or with a category, when the
ticket names no item). Every ticket with an applicant belongs to the person's open
matter for that subject; a new business day adds a trip. Finishing with
`needs_materials` (补正) leaves the matter open for the next trip; any other outcome
closes it. Trips per matter are what "最多跑一次" statistics count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class MatterStatus(StrEnum):
    """Whether more trips are expected."""

    OPEN = "open"
    CLOSED = "closed"


def matter_subject(item: str | None, category: str, bundle: str | None = None) -> str:
    """What a matter is about: the 一件事 bundle, the service item, or else the category."""
    if bundle:
        return f"bundle:{bundle}"
    return f"item:{item}" if item else f"category:{category}"


@dataclass
class Matter:
    """One person's matter and its trips."""

    id: str
    hall: str
    applicant_key: str
    subject: str
    opened_at: datetime
    last_visit: str  # business date of the latest trip, YYYY-MM-DD
    trips: int = 1
    status: MatterStatus = MatterStatus.OPEN
    closed_at: datetime | None = None
    version: int = 0

    def visit(self, business_date: str) -> None:
        """A ticket for this matter: a new day is a new trip (two tickets in a day are one trip)."""
        if business_date != self.last_visit:
            self.trips += 1
            self.last_visit = business_date
            self.version += 1

    def settle(self, needs_materials: bool, now: datetime) -> None:
        """A service of this matter finished: 补正 keeps it open, anything else closes it."""
        if needs_materials or self.status is MatterStatus.CLOSED:
            return
        self.status = MatterStatus.CLOSED
        self.closed_at = now
        self.version += 1
