"""The pages the hall server serves (Simplified Chinese first): the hall board and the visitor's ticket."""

from __future__ import annotations

from flask import Blueprint, render_template

from hall_server.web.auth import container

pages = Blueprint("pages", __name__)


@pages.get("/board/<hall>")
def board(hall: str) -> str:
    """The big screen (1920x1080 landscape or portrait): calls, recent calls, waiting counts.

    The board's device token is given once as ?token=... and kept by the page.
    """
    cfg = container().views.hall_config(hall)
    return render_template("board.html", hall=cfg.code, hall_name=cfg.name, notice=cfg.notice,
                           categories={c.code: c.name for c in cfg.categories})


@pages.get("/t/<token>")
def ticket(token: str) -> str:
    """The visitor's own ticket (the QR target): position, wait, the call, then the rating."""
    hall, _ = container().views.ticket_by_token_hall(token)
    cfg = container().views.hall_config(hall)
    return render_template("ticket.html", token=token, hall_name=cfg.name,
                           categories={c.code: c.name for c in cfg.categories})
