"""Who is acting: a person or a device, with the role and the scope its token carries."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """Roles of API.md ("Conventions")."""

    ADMIN = "admin"
    MANAGER = "manager"
    STAFF = "staff"
    KIOSK = "kiosk"
    BOARD = "board"
    EVALUATOR = "evaluator"
    VISITOR = "visitor"  # holds a ticket's status-page token, not an API token


PERSON_ROLES = (Role.ADMIN, Role.MANAGER, Role.STAFF)
DEVICE_ROLES = (Role.KIOSK, Role.BOARD, Role.EVALUATOR)


@dataclass(frozen=True)
class Actor:
    """The authenticated caller of a command."""

    name: str
    role: Role
    hall: str | None = None
    window: int | None = None
    token_id: str | None = None

    def sees_hall(self, hall: str) -> bool:
        """Admins see every hall; everyone else only their own."""
        return self.role is Role.ADMIN or self.hall == hall

    def runs_hall(self, hall: str) -> bool:
        """Admins and the hall's managers run its windows and staff."""
        return self.role is Role.ADMIN or (self.role is Role.MANAGER and self.hall == hall)

    def may_issue(self, hall: str) -> bool:
        """People of the hall and its kiosks issue tickets; boards and rating pads do not."""
        return self.sees_hall(hall) and self.role in (Role.ADMIN, Role.MANAGER, Role.STAFF, Role.KIOSK)

    def may_evaluate(self, hall: str) -> bool:
        """Rating pads, kiosks and the hall's managers submit ratings; staff never rate themselves."""
        return self.sees_hall(hall) and self.role in (Role.ADMIN, Role.MANAGER, Role.EVALUATOR, Role.KIOSK)

    def may_operate_window(self, hall: str, window: int, signed_in_staff: str | None) -> bool:
        """Staff operate the window they are bound to, or the one they signed in at."""
        if self.runs_hall(hall):
            return True
        if self.role is not Role.STAFF or self.hall != hall:
            return False
        if self.window is not None:
            return self.window == window
        return signed_in_staff == self.name

    def may_open_window(self, hall: str, window: int) -> bool:
        """Signing in: staff bound to a window open that one; unbound staff any in their hall."""
        if self.runs_hall(hall):
            return True
        return self.role is Role.STAFF and self.hall == hall and self.window in (None, window)


SYSTEM = Actor(name="system", role=Role.ADMIN)
VISITOR = Actor(name="visitor", role=Role.VISITOR)
