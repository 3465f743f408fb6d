"""Ports: what the use cases need from the outside world, as Protocol classes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol


class Clock(Protocol):
    """Tells the time (aware, UTC)."""

    def now(self) -> datetime:
        """The current instant."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        return datetime.now(UTC)


class LivePublisher(Protocol):
    """Pushes committed events to live clients (boards, consoles, dashboards)."""

    def publish(self, envelopes: Sequence[dict[str, Any]]) -> None:
        """Send envelopes that were committed, in seq order."""
        ...


class NullLivePublisher:
    """Publishes nowhere (CLI commands, tests that do not look)."""

    def publish(self, envelopes: Sequence[dict[str, Any]]) -> None:
        """Drop the envelopes."""


class IdentityVault(Protocol):
    """Seals ID numbers for storage; opens them only for an audited reveal."""

    def seal(self, plaintext: str, context: str) -> str:
        """Encrypt `plaintext`, bound to `context`."""
        ...

    def open(self, token: str, context: str) -> str:
        """Decrypt a sealed value bound to `context`."""
        ...
