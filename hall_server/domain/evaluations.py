"""Service evaluations (好差评): five levels, one per served ticket, rectification of bad ones.

Levels follow the live interfaces of the 好差评 system: 5 非常满意 ... 1 非常不满意 (GB/T 39046
numbers them the other way round; the relay maps per target, issue 7). A rating of 1 or
2 (差评) opens a rectification case (整改) due a configured number of working days later;
a served ticket not rated within the configured working days counts as 基本满意.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import IntEnum, StrEnum

from hall_server.domain.errors import AlreadyEvaluated, InvalidInput, NotServed, RectificationNotOpen
from hall_server.domain.hall import OpeningHours
from hall_server.domain.tickets import TicketStatus


class Level(IntEnum):
    """The five levels, 5 best."""

    VERY_SATISFIED = 5
    SATISFIED = 4
    BASICALLY_SATISFIED = 3
    DISSATISFIED = 2
    VERY_DISSATISFIED = 1


LEVEL_ZH = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
DEFAULT_LEVEL = Level.BASICALLY_SATISFIED


class EvaluationChannel(StrEnum):
    """Where the rating came from; `default` is the automatic one."""

    PAD = "pad"
    KIOSK = "kiosk"
    MOBILE = "mobile"
    DEFAULT = "default"


class Rectification(StrEnum):
    """State of the rectification case a bad rating opens."""

    OPEN = "open"
    CLOSED = "closed"


MAX_COMMENT = 500


@dataclass
class Evaluation:
    """One evaluation of one served ticket."""

    id: str
    hall: str
    ticket_id: str
    level: Level
    channel: EvaluationChannel
    submitted_at: datetime
    comment: str = ""
    window: int | None = None
    staff: str | None = None
    rectification: Rectification | None = None
    rectification_due: date | None = None
    rectification_note: str | None = None
    closed_by: str | None = None
    closed_at: datetime | None = None
    version: int = 0

    def close(self, note: str, by: str, now: datetime) -> None:
        """A manager closes the rectification case with what was done."""
        if self.rectification is not Rectification.OPEN:
            raise RectificationNotOpen("该评价没有待整改的差评。This evaluation has no open rectification case.")
        note = note.strip()
        if not note:
            raise InvalidInput("请填写整改情况。Describe what was done.")
        self.rectification = Rectification.CLOSED
        self.rectification_note = note[:MAX_COMMENT]
        self.closed_by = by
        self.closed_at = now
        self.version += 1


def is_working_day(day: date, hours: OpeningHours) -> bool:
    """A day the hall opens (holidays and make-up working days included)."""
    return bool(hours.hours_on(day).periods)


def add_working_days(start: date, days: int, hours: OpeningHours) -> date:
    """The `days`-th working day after `start` (start itself does not count)."""
    day = start
    counted = 0
    for _ in range(days * 7 + 366):  # bounded even for a hall that never opens
        if counted == days:
            return day
        day += timedelta(days=1)
        if is_working_day(day, hours):
            counted += 1
    return day


def check_evaluable(status: TicketStatus, already: bool) -> None:
    """Only a served ticket may be rated, and only once."""
    if status is not TicketStatus.DONE:
        raise NotServed("只有办结的号票才能评价。Only a ticket that was served can be rated.")
    if already:
        raise AlreadyEvaluated("该号票已经评价过了。This ticket has been rated already.")


def parse_level(value: int) -> Level:
    """A level from 1 to 5."""
    try:
        return Level(value)
    except ValueError:
        raise InvalidInput("评价等级应为1到5。level must be 1 (非常不满意) to 5 (非常满意).")


def opens_rectification(level: Level) -> bool:
    """差评 (1 or 2) open a rectification case."""
    return level <= Level.DISSATISFIED
