"""Window states (closed, open, paused with a reason) and the moves between them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from hall_server.domain.errors import InvalidInput, WindowBusy, WindowClosed, WindowPaused


class WindowStatus(StrEnum):
    """A window's state as the hall sees it."""

    CLOSED = "closed"
    OPEN = "open"
    PAUSED = "paused"


class WindowMove(StrEnum):
    """What staff or a manager does to a window."""

    OPEN = "open"
    PAUSE = "pause"
    RESUME = "resume"
    CLOSE = "close"


@dataclass
class Window:
    """A window's live state."""

    hall: str
    number: int
    name: str
    categories: tuple[str, ...]
    status: WindowStatus = WindowStatus.CLOSED
    pause_reason: str | None = None
    staff: str | None = None
    current_ticket: str | None = None
    status_since: datetime | None = None
    version: int = 0

    def apply(self, move: WindowMove, now: datetime, *, reason: str | None = None,
              staff: str | None = None) -> bool:
        """Apply a move; return False when it changes nothing (opening an open window)."""
        if move is WindowMove.OPEN:
            # Opening a paused window resumes it; opening an open one under another staff
            # member hands the window over (a shift change).
            if self.status is WindowStatus.OPEN and staff in (None, self.staff):
                return False
            target = WindowStatus.OPEN
        elif move is WindowMove.RESUME:
            if self.status is WindowStatus.CLOSED:
                raise WindowClosed(f"{self.number}号窗口未开启。Window {self.number} is closed: open it instead.")
            if self.status is WindowStatus.OPEN:
                return False
            target = WindowStatus.OPEN
        elif move is WindowMove.PAUSE:
            if self.status is WindowStatus.CLOSED:
                raise WindowClosed(f"{self.number}号窗口未开启，不能暂停。Window {self.number} is closed.")
            reason = (reason or "").strip()[:200]
            if not reason:
                raise InvalidInput("暂停服务需要填写原因。A pause needs a reason.")
            if self.status is WindowStatus.PAUSED and self.pause_reason == reason:
                return False
            target = WindowStatus.PAUSED
        else:
            if self.status is WindowStatus.CLOSED:
                return False
            if self.current_ticket is not None:
                raise WindowBusy(
                    f"{self.number}号窗口还有未办结的号票，请先办结或转移。"
                    f"Window {self.number} still holds a ticket: finish or transfer it first."
                )
            target = WindowStatus.CLOSED
        if self.status is not target:
            self.status_since = now
        self.status = target
        self.pause_reason = reason if target is WindowStatus.PAUSED else None
        if move is WindowMove.OPEN and staff is not None:
            self.staff = staff
        elif target is WindowStatus.CLOSED:
            self.staff = None
        self.version += 1
        return True

    def check_can_call(self) -> None:
        """Raise unless the window may call a new ticket now."""
        if self.status is WindowStatus.CLOSED:
            raise WindowClosed(f"{self.number}号窗口未开启。Window {self.number} is closed.")
        if self.status is WindowStatus.PAUSED:
            raise WindowPaused(
                f"{self.number}号窗口暂停服务中（{self.pause_reason}），请先恢复。"
                f"Window {self.number} is paused: resume it first."
            )
        if self.current_ticket is not None:
            raise WindowBusy(
                f"{self.number}号窗口还有未办结的号票。Window {self.number} still holds a called or serving ticket."
            )
