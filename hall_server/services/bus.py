"""The message bus: runs one handler per command in a fresh unit of work, then publishes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from hall_server.domain.commands import Command
from hall_server.services.handlers import HANDLERS, HandlerContext
from hall_server.services.ports import LivePublisher
from hall_server.services.unit_of_work import DuplicateKey, UnitOfWork

log = logging.getLogger(__name__)


class MessageBus:
    """Dispatch commands to handlers; side effects (live push) only after commit."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        context: HandlerContext,
        live: LivePublisher,
    ) -> None:
        self._uow_factory = uow_factory
        self.context = context
        self._live = live

    def handle(self, cmd: Command) -> Any:
        """Run the command's handler; publish the events it committed; return its result."""
        handler = HANDLERS[type(cmd)]
        for attempt in (1, 2):
            uow = self._uow_factory()
            try:
                with uow:
                    result = handler(cmd, uow, self.context)
            except DuplicateKey:
                # A concurrent request with the same Idempotency-Key committed first: run
                # again, and the handler returns the stored response.
                if attempt == 2:
                    raise
                continue
            if uow.committed_envelopes:
                try:
                    self._live.publish(uow.committed_envelopes)
                except Exception:  # the commit stands; live clients catch up by seq
                    log.exception("live publish failed after commit")
            return result
        raise AssertionError("unreachable")
