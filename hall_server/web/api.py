"""The v1 HTTP API of API.md: thin views that parse, authorise, and hand commands to the bus."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from hall_server.domain import commands as c
from hall_server.domain.actors import VISITOR, Role
from hall_server.domain.errors import NotFound, UnknownWindow
from hall_server.web.auth import ANY_ROLE, STAFF_UP, bearer_token, container, require
from hall_server.web.validation import Fields, fingerprint, invalid, json_body, query_int

api = Blueprint("api", __name__, url_prefix="/api/v1")

CHANNELS = ("kiosk", "counter", "online", "mobile")
PRIORITY_GROUPS = ("elderly", "disabled", "military", "pregnant")
OUTCOMES = ("completed", "accepted", "needs_materials", "rejected", "consulted")
ID_TYPES = ("resident_id", "uscc")
ISSUERS = (Role.ADMIN, Role.MANAGER, Role.STAFF, Role.KIOSK)


MAX_WINDOW = 9999


def _window_number(hall: str, number: int) -> int:
    """A window number from the path; beyond any hall's range it is simply unknown."""
    if not 1 <= number <= MAX_WINDOW:
        raise UnknownWindow(f"没有{number}号窗口。Hall '{hall}' has no window {number}.")
    return number


def _json(body: Any, status: int = 200) -> Response:
    resp = jsonify(body)
    resp.status_code = status
    return resp


# ---------------------------------------------------------------- auth


@api.post("/auth/login")
def login() -> Response:
    """Exchange a user name and password for a bearer token."""
    f = Fields(json_body(allow_empty=False), {"username", "password"})
    username = f.string("username", required=True, max_len=64) or ""
    password = f.string("password", required=True, max_len=200) or ""
    token, user = container().auth.login(username, password, request.remote_addr or "unknown")
    return _json({"token": token, "user": user})


@api.post("/auth/logout")
def logout() -> Response:
    """Revoke the caller's own token."""
    require(ANY_ROLE)
    container().auth.logout(bearer_token() or "")
    return Response(status=204)


@api.get("/auth/me")
def me() -> Response:
    """Who the token belongs to."""
    a = require(ANY_ROLE)
    return _json({"name": a.name, "role": a.role.value, "hall": a.hall, "window": a.window})


# ---------------------------------------------------------------- halls


@api.get("/halls")
def halls() -> Response:
    """Every hall."""
    return _json(container().views.halls())


@api.get("/halls/<hall>/categories")
def categories(hall: str) -> Response:
    """The hall's comprehensive-window categories."""
    return _json(container().views.categories(hall))


@api.get("/halls/<hall>/items")
def items(hall: str) -> Response:
    """Service items with their 12 standard elements; `q` filters by name, code or pinyin initials."""
    q = request.args.get("q")
    if q is not None and len(q) > 100:
        raise invalid("查询词过长。The query is too long.")
    return _json(container().views.items(hall, q))


@api.get("/halls/<hall>/bundles")
def bundles(hall: str) -> Response:
    """一件事 bundles: several items as one matter, one ticket, one window; `q` filters."""
    q = request.args.get("q")
    if q is not None and len(q) > 100:
        raise invalid("查询词过长。The query is too long.")
    return _json(container().views.bundles(hall, q))


@api.get("/halls/<hall>/windows")
def windows(hall: str) -> Response:
    """Windows with status, staff and current ticket."""
    require(ANY_ROLE, hall)
    return _json(container().views.windows(hall))


_WINDOW_COMMANDS: dict[str, type[c.WindowCommand]] = {
    "open": c.OpenWindow,
    "pause": c.PauseWindow,
    "resume": c.ResumeWindow,
    "close": c.CloseWindow,
}


@api.post("/halls/<hall>/windows/<int:number>/<any(open, pause, resume, close):move>")
def window_move(hall: str, number: int, move: str) -> Response:
    """Open, pause (with a reason), resume or close a window."""
    actor = require(STAFF_UP, hall)
    number = _window_number(hall, number)
    body = json_body()
    if move == "pause":
        reason = Fields(body, {"reason"}).string("reason", required=True, max_len=200)
        cmd: c.WindowCommand = c.PauseWindow(actor, hall, number, reason=reason or "")
    else:
        Fields(body, set())
        cmd = _WINDOW_COMMANDS[move](actor, hall, number)
    return _json(container().bus.handle(cmd))


@api.post("/halls/<hall>/windows/<int:number>/call-next")
def call_next(hall: str, number: int) -> Response:
    """Call the next ticket to the window (204 when nothing waits)."""
    actor = require(STAFF_UP, hall)
    number = _window_number(hall, number)
    Fields(json_body(), set())
    result = container().bus.handle(c.CallNext(actor, hall, number))
    if result is None:
        return Response(status=204)
    return _json({"ticket": result})


# ---------------------------------------------------------------- tickets


@api.post("/halls/<hall>/tickets")
def issue_ticket(hall: str) -> Response:
    """Issue a ticket; an Idempotency-Key makes retries safe."""
    actor = require(ISSUERS, hall)
    body = json_body(allow_empty=False)
    f = Fields(body, {"category", "item", "bundle", "channel", "applicant", "priority_group", "priority_reason"})
    category = f.string("category", max_len=8)
    item = f.string("item", max_len=64)
    bundle = f.string("bundle", max_len=64)
    if category is None and item is None and bundle is None:
        raise invalid("请提供 category、item 或 bundle。Give a category, an item or a bundle.")
    channel = f.string("channel", required=True, choices=CHANNELS)
    priority = f.string("priority_group", choices=PRIORITY_GROUPS)
    priority_reason = f.string("priority_reason", max_len=200)
    applicant = _applicant_of(f, required=False)
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 200:
        raise invalid("Idempotency-Key 长度应为1到200个字符。Idempotency-Key must have 1-200 characters.")
    cmd = c.IssueTicket(actor, hall, channel or "", category=category, item=item, applicant=applicant,
                        priority_group=priority, priority_reason=priority_reason, bundle=bundle, idempotency_key=key,
                        request_fingerprint=fingerprint())
    return _json(container().bus.handle(cmd), 201)


@api.get("/tickets/<ticket_id>")
def get_ticket(ticket_id: str) -> Response:
    """One ticket with position, estimate and times."""
    actor = require(ANY_ROLE)
    hall, body = container().views.ticket(ticket_id)
    if not actor.sees_hall(hall):
        raise NotFound("没有找到该号票。No such ticket.")
    return _json(body)


@api.get("/t/<token>")
def ticket_by_token(token: str) -> Response:
    """A visitor's own ticket, by the token in its QR code (no login)."""
    return _json(container().views.ticket_by_token(token))


_TICKET_COMMANDS: dict[str, type[c.TicketCommand]] = {
    "recall": c.RecallTicket,
    "start": c.StartService,
    "no-show": c.MarkNoShow,
    "requeue": c.RequeueTicket,
    "cancel": c.CancelTicket,
}


@api.post("/tickets/<ticket_id>/<any(recall, start, \"no-show\", requeue, cancel):move>")
def ticket_move(ticket_id: str, move: str) -> Response:
    """Recall, start, mark no-show, requeue or cancel a ticket."""
    actor = require(STAFF_UP)
    Fields(json_body(), set())
    return _json(container().bus.handle(_TICKET_COMMANDS[move](actor, ticket_id)))


@api.post("/tickets/<ticket_id>/finish")
def finish(ticket_id: str) -> Response:
    """Finish serving with an outcome."""
    actor = require(STAFF_UP)
    f = Fields(json_body(), {"outcome"})
    outcome = f.string("outcome", required=True, choices=OUTCOMES)
    return _json(container().bus.handle(c.FinishService(actor, ticket_id, outcome=outcome or "")))


@api.post("/tickets/<ticket_id>/transfer")
def transfer(ticket_id: str) -> Response:
    """Send a ticket to another category and/or window."""
    actor = require(STAFF_UP)
    f = Fields(json_body(), {"category", "window"})
    category = f.string("category", max_len=8)
    window = f.integer("window", lo=1, hi=9999)
    if category is None and window is None:
        raise invalid("请提供目标 category 或 window。Give a target category or window.")
    return _json(container().bus.handle(c.TransferTicket(actor, ticket_id, category=category, window=window)))


# ---------------------------------------------------------------- appointments (预约)

BOOKING_CHANNELS = ("online", "mobile", "counter", "kiosk")


def _applicant_of(f: Fields, *, required: bool) -> c.Applicant | None:
    raw = f.obj("applicant")
    if raw is None:
        if required:
            raise invalid("预约需要申请人证件。applicant is required.", field="applicant")
        return None
    a = Fields(raw, {"id_type", "id_number", "name", "override_check"}, "applicant")
    override = raw.get("override_check", False)
    if not isinstance(override, bool):
        raise invalid("override_check 应为 true 或 false。override_check must be a boolean.", field="override_check")
    return c.Applicant(
        id_type=a.string("id_type", required=True, choices=ID_TYPES) or "",
        id_number=a.string("id_number", required=True, max_len=32) or "",
        name=a.string("name", max_len=50),
        override_check=override,
    )


@api.get("/halls/<hall>/slots")
def slots(hall: str) -> Response:
    """A day's appointment slots of a category with capacity and places booked."""
    raw_day, category = request.args.get("date"), request.args.get("category")
    if not raw_day or not category:
        raise invalid("需要参数 date=YYYY-MM-DD 和 category。date and category are required.")
    try:
        day = date.fromisoformat(raw_day)
    except ValueError:
        raise invalid("date 应为 YYYY-MM-DD。date must be YYYY-MM-DD.", field="date")
    if len(category) > 8:
        raise invalid("category 过长。category is too long.", field="category")
    return _json(container().views.slots(hall, day, category))


@api.post("/halls/<hall>/appointments")
def book(hall: str) -> Response:
    """Book a slot for a person (预约)."""
    actor = require(ISSUERS, hall)
    f = Fields(json_body(allow_empty=False), {"category", "item", "slot_start", "applicant", "channel"})
    category, item = f.string("category", max_len=8), f.string("item", max_len=64)
    if category is None and item is None:
        raise invalid("请提供 category 或 item。Give a category or an item.")
    raw_start = f.string("slot_start", required=True, max_len=40) or ""
    try:
        start = datetime.fromisoformat(raw_start)
    except ValueError:
        raise invalid("slot_start 应为带时区的 RFC 3339 时间。slot_start must be an RFC 3339 time.",
                      field="slot_start")
    if start.tzinfo is None:
        raise invalid("slot_start 需要带时区。slot_start needs a UTC offset.", field="slot_start")
    applicant = _applicant_of(f, required=True)
    assert applicant is not None
    channel = f.string("channel", required=True, choices=BOOKING_CHANNELS) or ""
    cmd = c.BookAppointment(actor, hall, start, applicant, channel, category=category, item=item)
    return _json(container().bus.handle(cmd), 201)


@api.post("/appointments/<appointment_id>/cancel")
def cancel_appointment(appointment_id: str) -> Response:
    """Cancel a booking; its place is free again."""
    actor = require(ISSUERS)
    Fields(json_body(), set())
    return _json(container().bus.handle(c.CancelAppointment(actor, appointment_id)))


@api.post("/halls/<hall>/check-in")
def check_in(hall: str) -> Response:
    """Check a booking in by its QR code or the person's ID: 201 with its ticket."""
    actor = require(ISSUERS, hall)
    f = Fields(json_body(allow_empty=False), {"code", "applicant"})
    code = f.string("code", max_len=64)
    applicant = _applicant_of(f, required=False)
    if code is None and applicant is None:
        raise invalid("请提供预约码 code 或申请人 applicant。Give code or applicant.")
    return _json(container().bus.handle(c.CheckIn(actor, hall, code=code, applicant=applicant)), 201)


# ---------------------------------------------------------------- evaluations (好差评)

EVALUATION_CHANNELS = ("pad", "kiosk", "mobile")
RATERS = (Role.ADMIN, Role.MANAGER, Role.EVALUATOR, Role.KIOSK)
MANAGERS = (Role.ADMIN, Role.MANAGER)


def _rating(f: Fields) -> tuple[int, str]:
    """The level (1..5) and the optional comment of a rating."""
    return f.integer("level", required=True, lo=1, hi=5) or 0, f.string("comment", max_len=500) or ""


@api.post("/tickets/<ticket_id>/evaluation")
def evaluate(ticket_id: str) -> Response:
    """Rate a served ticket (5 非常满意 ... 1 非常不满意), once; from a pad, a kiosk or a phone."""
    actor = require(RATERS)
    f = Fields(json_body(allow_empty=False), {"level", "comment", "channel"})
    level, comment = _rating(f)
    channel = f.string("channel", required=True, choices=EVALUATION_CHANNELS) or ""
    cmd = c.SubmitEvaluation(actor, level, channel, ticket_id=ticket_id, comment=comment)
    return _json(container().bus.handle(cmd), 201)


@api.post("/t/<token>/evaluation")
def evaluate_by_token(token: str) -> Response:
    """The visitor rates their own served ticket from its status page (no login)."""
    if len(token) > 64:
        raise NotFound("没有找到该号票。No such ticket.")
    level, comment = _rating(Fields(json_body(allow_empty=False), {"level", "comment"}))
    cmd = c.SubmitEvaluation(VISITOR, level, "mobile", ticket_token=token, comment=comment)
    return _json(container().bus.handle(cmd), 201)


@api.get("/halls/<hall>/evaluations")
def evaluations(hall: str) -> Response:
    """The hall's evaluations, newest first; `rectification=open` lists the bad ratings to handle."""
    require(MANAGERS, hall)
    state = request.args.get("rectification")
    if state not in (None, "open", "closed"):
        raise invalid("rectification 应为 open 或 closed。rectification must be open or closed.")
    return _json(container().views.evaluations(hall, state, query_int("limit", 100, 1, 1000)))


@api.post("/evaluations/<evaluation_id>/close")
def close_rectification(evaluation_id: str) -> Response:
    """Close a bad rating's rectification case with a note of what was done."""
    actor = require(MANAGERS)
    note = Fields(json_body(allow_empty=False), {"note"}).string("note", required=True, max_len=500) or ""
    return _json(container().bus.handle(c.CloseRectification(actor, evaluation_id, note)))


# ---------------------------------------------------------------- catalogue (事项目录)


@api.get("/halls/<hall>/catalogue")
def export_catalogue(hall: str) -> Response:
    """The whole catalogue as JSON, for the platform or another hall (同源)."""
    require(MANAGERS, hall)
    return _json(container().catalogue.export(hall))


@api.put("/halls/<hall>/catalogue")
def import_catalogue(hall: str) -> Response:
    """Replace the whole catalogue: all items valid, or nothing changes."""
    actor = require(MANAGERS, hall)
    body = json_body(allow_empty=False)
    f = Fields(body, {"items", "bundles", "hall", "version"})
    items = f.array("items", required=True)
    bundles = f.array("bundles") if "bundles" in body else None
    return _json(container().catalogue.replace_items(hall, items, actor.name, bundles))


@api.put("/halls/<hall>/items/<code>")
def put_item(hall: str, code: str) -> Response:
    """Add or replace one service item (the 12 elements, as in the configuration file)."""
    actor = require(MANAGERS, hall)
    return _json(container().catalogue.put_item(hall, code, json_body(allow_empty=False), actor.name))


@api.delete("/halls/<hall>/items/<code>")
def delete_item(hall: str, code: str) -> Response:
    """Remove one service item."""
    actor = require(MANAGERS, hall)
    return _json(container().catalogue.delete_item(hall, code, actor.name))


# ---------------------------------------------------------------- matters (最多跑一次)


@api.get("/halls/<hall>/matters")
def matters(hall: str) -> Response:
    """Matters with their trips, most trips first; `min_trips=2` lists who had to come back."""
    require(MANAGERS, hall)
    status = request.args.get("status")
    if status not in (None, "open", "closed"):
        raise invalid("status 应为 open 或 closed。status must be open or closed.", field="status")
    return _json(container().views.matters(hall, status, query_int("min_trips", 1, 1, 1000),
                                           query_int("limit", 100, 1, 1000)))


# ---------------------------------------------------------------- identity and audit


@api.post("/tickets/<ticket_id>/applicant/reveal")
def reveal_applicant(ticket_id: str) -> Response:
    """A manager sees the full ID number of a ticket's applicant, for a stated reason (audited)."""
    actor = require(MANAGERS)
    reason = Fields(json_body(allow_empty=False), {"reason"}).string("reason", required=True, max_len=200) or ""
    resp = _json(container().bus.handle(c.RevealApplicant(actor, ticket_id, reason)))
    resp.headers["Cache-Control"] = "no-store"
    return resp


@api.get("/halls/<hall>/audit")
def audit(hall: str) -> Response:
    """The hall's audit log, newest first (who revealed what, and why)."""
    require(MANAGERS, hall)
    return _json(container().views.audit(hall, query_int("limit", 100, 1, 1000)))


# ---------------------------------------------------------------- queue and events


@api.get("/halls/<hall>/queue")
def queue(hall: str) -> Response:
    """Waiting counts per category and the latest calls (what the hall board shows)."""
    return _json(container().views.queue(hall))


@api.get("/halls/<hall>/events")
def events(hall: str) -> Response:
    """The hall's events after `after`, in seq order (catch-up after a reconnect)."""
    require(ANY_ROLE, hall)
    after = query_int("after", 0, 0, 2**62)
    limit = query_int("limit", 100, 1, 1000)
    return _json(container().views.events_after(hall, after, limit))
