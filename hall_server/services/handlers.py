"""Command handlers: one use case each, one unit of work each, events recorded in it."""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from hall_server.domain import commands as c
from hall_server.domain import events as ev
from hall_server.domain.actors import Actor, Role
from hall_server.domain.appointments import (
    Appointment,
    AppointmentStatus,
    blocked_until,
    code_is_authentic,
    find_slot,
    new_code,
)
from hall_server.domain.audit import AuditEntry
from hall_server.domain.dispatch import Candidate, DispatchPolicy, choose_next, position_from_counts
from hall_server.domain.errors import (
    AlreadyBooked,
    AlreadyWaiting,
    BookingBlocked,
    ConcurrentUpdate,
    Forbidden,
    HallClosed,
    IdempotencyKeyReused,
    InvalidIdNumber,
    InvalidInput,
    NoOpenWindow,
    NotEligible,
    NotFound,
    SlotFull,
    SlotUnavailable,
    TicketLimit,
    UnknownCategory,
    UnknownItem,
    UnknownWindow,
    WindowBusy,
    WindowClosed,
)
from hall_server.domain.evaluations import (
    DEFAULT_LEVEL,
    MAX_COMMENT,
    Evaluation,
    EvaluationChannel,
    Level,
    Rectification,
    add_working_days,
    check_evaluable,
    opens_rectification,
    parse_level,
)
from hall_server.domain.hall import PRIORITY_GROUPS, Category, HallConfig, RequeuePosition
from hall_server.domain.identity import (
    IdType,
    applicant_key,
    birth_date_of,
    mask_id_number,
    mask_name,
    normalize_resident_id,
    normalize_uscc,
)
from hall_server.domain.matters import Matter, matter_subject
from hall_server.domain.numbering import business_date, day_start, format_number, parse_number
from hall_server.domain.tickets import Channel, Outcome, Ticket, TicketStatus
from hall_server.domain.wait import estimate_wait_s, rolling_mean_service_s
from hall_server.domain.windows import Window, WindowMove, WindowStatus
from hall_server.services.ports import IdentityVault
from hall_server.services.presenters import (
    appointment_public,
    evaluation_public,
    ticket_public,
    ticket_resource,
    window_public,
)
from hall_server.services.unit_of_work import Repositories, StoredResponse, UnitOfWork

log = logging.getLogger(__name__)

CLAIM_ATTEMPTS = 8


@dataclass(frozen=True)
class HandlerContext:
    """What handlers need besides the unit of work."""

    now: Callable[[], datetime]
    applicant_secret: bytes
    always_open: bool
    status_url_base: str
    vault: IdentityVault


# ---------------------------------------------------------------- helpers


def _hall(uow: UnitOfWork, code: str) -> HallConfig:
    cfg = uow.halls.config(code)
    if cfg is None:
        raise NotFound(f"没有编号为 {code} 的大厅。No hall with code '{code}'.")
    return cfg


def _window(uow: UnitOfWork, hall: str, number: int) -> Window:
    w = uow.windows.get(hall, number)
    if w is None:
        raise UnknownWindow(f"没有{number}号窗口。Hall '{hall}' has no window {number}.")
    return w


def _ticket(uow: UnitOfWork, actor: Actor, ticket_id: str) -> Ticket:
    t = uow.tickets.get(ticket_id)
    if t is None or not actor.sees_hall(t.hall):
        raise NotFound("没有找到该号票。No such ticket.")
    return t


def status_url(ctx: HandlerContext, t: Ticket) -> str:
    """The visitor's own status page, the target of the ticket's QR code."""
    return f"{ctx.status_url_base.rstrip('/')}/t/{t.token}"


def candidate(t: Ticket) -> Candidate:
    """A ticket as dispatch sees it."""
    return Candidate(
        ticket_id=t.id,
        category=t.category,
        order_at=t.order_at,
        priority=t.priority_group is not None,
        appointment=t.appointment,
        target_window=t.target_window,
        seq=parse_number(t.number)[1],
    )


def estimate_for(uow: Repositories, cfg: HallConfig, t: Ticket, now: datetime,
                 statuses: list[WindowStatus] | None = None) -> tuple[int | None, int | None]:
    """Position (1 = next) and estimated wait of a waiting ticket; (None, None) otherwise.

    `statuses` are those of the windows serving the ticket's category, when the caller
    has them already.
    """
    today = business_date(now, cfg.tz)
    if t.status is not TicketStatus.WAITING or t.business_date != today.isoformat():
        return None, None  # not in line, or left over from an earlier day (never called now)
    since = day_start(today, cfg.tz)
    me = candidate(t)
    if t.target_window is not None:
        # Transferred to one window: that window calls them first-come first-served.
        position = 1 + uow.tickets.targeted_ahead(t.hall, t.target_window, me, since)
        open_windows = 1
    else:
        counts = uow.tickets.queue_counts(t.hall, t.category, me, since)
        ratio = cfg.rules.priority_ratio
        both_kinds = (counts.priority or me.priority) and (counts.normal or not me.priority)
        flags = (uow.tickets.recent_priority_flags(t.hall, t.category, sum(ratio))
                 if both_kinds and not me.appointment else [])
        position = position_from_counts(counts, appointment=me.appointment, priority=me.priority,
                                        recent_priority_flags=flags, ratio=ratio)
        if statuses is None:
            statuses = uow.windows.statuses_serving(t.hall, t.category)
        open_windows = sum(1 for st in statuses if st is WindowStatus.OPEN)
    mean = rolling_mean_service_s(
        uow.tickets.recent_service_durations(t.hall, t.category, cfg.rules.service_time_window),
        cfg.rules.default_service_time_s,
    )
    return position, estimate_wait_s(position - 1, open_windows, mean)


def resource(uow: Repositories, ctx: HandlerContext, cfg: HallConfig, t: Ticket,
             statuses: list[WindowStatus] | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The full API body of a ticket, computed inside the current unit of work."""
    position, wait = estimate_for(uow, cfg, t, now or ctx.now(), statuses)
    return ticket_resource(t, cfg.tz, position=position, estimated_wait_s=wait, status_url=status_url(ctx, t))


class _Versioned(Protocol):
    version: int


_NOUNS = {"ticket": "号票", "window": "窗口状态", "matter": "办件信息", "evaluation": "该评价", "appointment": "该预约"}


def _save(repo: Any, obj: _Versioned, before_version: int, noun: str) -> None:
    """Write a changed object if nobody changed it since `before_version` (optimistic locking)."""
    if obj.version != before_version and not repo.update(obj, before_version):
        raise ConcurrentUpdate(f"{_NOUNS[noun]}刚被他人修改，请刷新后重试。The {noun} changed meanwhile: reload and retry.")


def _save_ticket(uow: UnitOfWork, t: Ticket, before_version: int) -> None:
    _save(uow.tickets, t, before_version, "ticket")


def _save_window(uow: UnitOfWork, w: Window, before_version: int) -> None:
    _save(uow.windows, w, before_version, "window")


def _release_window(uow: UnitOfWork, t: Ticket, window: int | None) -> None:
    """Free the window that held the ticket (finish, no-show, transfer)."""
    if window is None:
        return
    w = uow.windows.get(t.hall, window)
    if w is not None and w.current_ticket == t.id:
        before = w.version
        w.current_ticket = None
        w.version += 1
        _save_window(uow, w, before)


def _check_operator(actor: Actor, t: Ticket, uow: UnitOfWork) -> None:
    """Only the staff of the ticket's window (or a manager) move a called or serving ticket.

    A waiting or missed ticket is at no window: any staff member of the hall may act on it
    (a missed visitor who comes back may be put back in line at whichever desk they ask).
    """
    if t.window is None or t.status not in (TicketStatus.CALLED, TicketStatus.SERVING):
        if actor.runs_hall(t.hall) or (actor.role is Role.STAFF and actor.hall == t.hall):
            return
        raise Forbidden("无权操作该号票。You may not act on this ticket.")
    w = uow.windows.get(t.hall, t.window)
    if not actor.may_operate_window(t.hall, t.window, w.staff if w else None):
        raise Forbidden(f"只有{t.window}号窗口的工作人员可以操作该号票。Only window {t.window}'s staff may do this.")


# ---------------------------------------------------------------- issuing


def _remember(uow: UnitOfWork, ctx: HandlerContext, a: c.Applicant | None, person: tuple[str, str] | None,
              now: datetime) -> None:
    """Keep the person's number sealed in the vault (for an audited reveal), once per person."""
    if a is None or person is None:
        return
    value = a.id_number.strip().upper()
    name = (a.name or "").strip()
    uow.applicants.remember(person[0], a.id_type, ctx.vault.seal(value, person[0]), person[1], now,
                            name_sealed=ctx.vault.seal(name, person[0]) if name else None,
                            name_masked=mask_name(name) if name else None)


def _applicant(a: c.Applicant | None, cfg: HallConfig, now: datetime, ctx: HandlerContext,
               actor: Actor, uow: UnitOfWork) -> tuple[str, str] | None:
    """(keyed hash, masked form) of the applicant, after checking the number."""
    if a is None:
        return None
    if a.id_type == IdType.RESIDENT_ID:
        value = normalize_resident_id(a.id_number, today=cfg.local(now).date())
    elif a.id_type == IdType.USCC:
        checked = normalize_uscc(a.id_number)
        value = checked.value
        if not checked.check_ok:
            # Some lawful pre-2015 pilot codes fail the check (gov-standards.md 4.2): staff who
            # saw the licence may accept one, and that acceptance is audited; nobody else may.
            if not (a.override_check and actor.role in (Role.STAFF, Role.MANAGER, Role.ADMIN)):
                raise InvalidIdNumber(
                    "统一社会信用代码校验位错误，请核对营业执照；工作人员核验后可确认受理。"
                    "The check character of the credit code is wrong; staff may accept it after checking "
                    "the business licence.", extra={"overridable": True})
            uow.audit.add(AuditEntry(id=str(uuid.uuid4()), hall=cfg.code, at=now, actor=actor.name,
                                     action="accept_credit_code", subject=mask_id_number(value),
                                     detail="check character failed; licence verified by staff"))
    else:
        raise InvalidInput(f"不支持的证件类型 {a.id_type!r}。Unsupported id_type.")
    return applicant_key(ctx.applicant_secret, a.id_type, value), mask_id_number(value)


def _category_and_item(cfg: HallConfig, category_code: str | None, item_code: str | None) -> tuple[Category, str | None]:
    """The category of a request by category or item code (they must agree when both are given)."""
    item = None
    if item_code is not None:
        item = cfg.item(item_code)
        if item is None:
            raise UnknownItem(f"没有编码为 {item_code} 的事项。No service item '{item_code}'.")
    code = category_code or (item.category if item else None)
    if code is None:
        raise InvalidInput("请选择业务类别或事项。Give a category or an item.")
    category = cfg.category(code)
    if category is None:
        raise UnknownCategory(f"没有类别 {code}。No category '{code}'.")
    if item is not None and category_code is not None and item.category != category_code:
        raise InvalidInput(
            f"事项 {item.code} 属于类别 {item.category}，不属于 {category_code}。"
            f"Item {item.code} belongs to category {item.category}."
        )
    return category, item.code if item else None


def _new_ticket(uow: UnitOfWork, ctx: HandlerContext, cfg: HallConfig, now: datetime, *, category: Category,
                item: str | None, channel: Channel, applicant: tuple[str, str] | None, bundle: str | None = None,
                priority: tuple[str, str, str] | None = None, appointment: bool = False) -> dict[str, Any]:
    """Check the hall is open for the category, number a ticket, store it with its event; its body."""
    if not cfg.is_open(now, always_open=ctx.always_open):
        raise HallClosed("大厅现在不在办公时间内，请在办公时间前来。The hall is closed now.")
    statuses = uow.windows.statuses_serving(cfg.code, category.code)
    if WindowStatus.OPEN not in statuses:
        raise NoOpenWindow(
            f"“{category.name}”目前没有开放的窗口，请咨询导服台。No open window serves {category.code} now."
        )
    day = business_date(now, cfg.tz)
    if applicant is not None:
        # Anti-scalping (号贩子): one open ticket per person and category, and a daily limit.
        held = (uow.tickets.open_ticket_of(cfg.code, applicant[0], category.code, day)
                 if cfg.rules.one_open_ticket_per_category else None)
        if held is not None:
            raise AlreadyWaiting(
                f"您已持有{category.name}的号票 {held.number}，请等候叫号。You already hold ticket {held.number} "
                f"for {category.code}.", extra={"number": held.number})
        limit = cfg.rules.tickets_per_person_per_day
        if uow.tickets.issued_count(cfg.code, applicant[0], day) >= limit:
            raise TicketLimit(
                f"每人每天最多取号{limit}次，今天的次数已用完。The daily limit of {limit} tickets is reached."
            )
    matter = _visit_matter(uow, cfg, applicant, matter_subject(item, category.code, bundle), day.isoformat(), now)
    seq = uow.counters.next_seq(cfg.code, category.prefix, day)
    t = Ticket(
        id=str(uuid.uuid4()),
        hall=cfg.code,
        number=format_number(category.prefix, seq),
        business_date=day.isoformat(),
        category=category.code,
        item=item,
        bundle=bundle,
        channel=channel,
        issued_at=now,
        order_at=now,
        token=secrets.token_urlsafe(16),
        priority_group=priority[0] if priority else None,
        priority_reason=priority[1] if priority else None,
        priority_granted_by=priority[2] if priority else None,
        appointment=appointment,
        applicant_key=applicant[0] if applicant else None,
        applicant_masked=applicant[1] if applicant else None,
        matter_id=matter.id if matter else None,
        trip=matter.trips if matter else None,
    )
    uow.tickets.add(t)
    body = resource(uow, ctx, cfg, t, statuses, now)
    uow.record(ev.TicketIssued(t.hall, now, {
        "ticket": ticket_public(t, cfg.tz),
        "position": body["position"],
        "estimated_wait_s": body["estimated_wait_s"],
    }))
    return body


_GROUP_ZH = {"elderly": "老年人", "disabled": "残疾人", "military": "军人及退役军人", "pregnant": "孕妇"}


def _priority_grant(cmd: c.IssueTicket, cfg: HallConfig, now: datetime) -> tuple[str, str, str] | None:
    """(group, reason, granted by) of a 绿色通道 request, after the hall's grant rules.

    Who may grant each group is configured (rules.priority_grants). An `elderly` request
    with a resident ID is checked against the birth date in it; the reason given (or, by
    default, how the group was established) is stored with the ticket for audit and
    never published.
    """
    group = cmd.priority_group
    if group is None:
        return None
    if group not in PRIORITY_GROUPS:
        raise InvalidInput(f"未知的优先群体 {group!r}。Unknown priority group.")
    if cmd.actor.role.value not in cfg.rules.priority_grants.get(group, ()):
        raise Forbidden(f"无权登记“{_GROUP_ZH[group]}”优先。This role may not grant the {group} priority group.")
    reason = (cmd.priority_reason or "").strip()[:200]
    a = cmd.applicant
    if group == "elderly" and a is not None and a.id_type == IdType.RESIDENT_ID:
        today = cfg.local(now).date()
        born = birth_date_of(normalize_resident_id(a.id_number, today=today))
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        if age < cfg.rules.elderly_age:
            raise NotEligible(f"老年人优先需年满{cfg.rules.elderly_age}周岁。The elderly group starts at "
                              f"{cfg.rules.elderly_age}.", extra={"elderly_age": cfg.rules.elderly_age})
        reason = reason or f"身份证显示{age}周岁 (age {age} from the ID card)"
    if not reason:
        reason = ("自助机自报 (declared at the kiosk)" if cmd.actor.role is Role.KIOSK
                  else "工作人员核验 (verified by staff)")
    return group, reason, cmd.actor.name


def _visit_matter(uow: UnitOfWork, cfg: HallConfig, applicant: tuple[str, str] | None, subject: str, day: str,
                  now: datetime) -> Matter | None:
    """The person's open matter for this subject with this visit counted (a new one if none)."""
    if applicant is None:
        return None
    matter = uow.matters.open_for(cfg.code, applicant[0], subject)
    if matter is None:
        matter = Matter(id=str(uuid.uuid4()), hall=cfg.code, applicant_key=applicant[0], subject=subject,
                        opened_at=now, last_visit=day)
        uow.matters.add(matter)
        return matter
    before = matter.version
    matter.visit(day)
    _save(uow.matters, matter, before, "matter")
    return matter


def issue_ticket(cmd: c.IssueTicket, uow: UnitOfWork, ctx: HandlerContext) -> dict[str, Any]:
    """Number a new ticket and store it with its event; replay a remembered response."""
    if not cmd.actor.may_issue(cmd.hall):
        raise Forbidden("无权在该大厅取号。You may not issue tickets in this hall.")
    scope = f"{cmd.hall}:tickets"
    if cmd.idempotency_key:
        stored = uow.idempotency.get(scope, cmd.idempotency_key)
        if stored is not None:
            if stored.fingerprint != (cmd.request_fingerprint or ""):
                raise IdempotencyKeyReused(
                    "同一个 Idempotency-Key 用在了不同的请求上。This Idempotency-Key was used with a different body."
                )
            return stored.body
    cfg = _hall(uow, cmd.hall)
    now = ctx.now()
    bundle = None
    if cmd.bundle is not None:
        found = cfg.bundle(cmd.bundle)
        if found is None:
            raise UnknownItem(f"没有编码为 {cmd.bundle} 的一件事。No bundle '{cmd.bundle}'.")
        if cmd.item is not None or (cmd.category is not None and cmd.category != found.category):
            raise InvalidInput("一件事不能与其他事项或类别同时提交。Give a bundle alone (or with its own category).")
        bundle = found.code
        category, item = _category_and_item(cfg, found.category, None)
    else:
        category, item = _category_and_item(cfg, cmd.category, cmd.item)
    try:
        channel = Channel(cmd.channel)
    except ValueError:
        raise InvalidInput(f"未知的取号渠道 {cmd.channel!r}。Unknown channel.")
    applicant = _applicant(cmd.applicant, cfg, now, ctx, cmd.actor, uow)
    priority = _priority_grant(cmd, cfg, now)
    body = _new_ticket(uow, ctx, cfg, now, category=category, item=item, channel=channel, applicant=applicant,
                       priority=priority, bundle=bundle)
    _remember(uow, ctx, cmd.applicant, applicant, now)
    if cmd.idempotency_key:
        uow.idempotency.put(scope, cmd.idempotency_key, StoredResponse(cmd.request_fingerprint or "", 201, body))
    uow.commit()
    return body


# ---------------------------------------------------------------- dispatch


def call_next(cmd: c.CallNext, uow: UnitOfWork, ctx: HandlerContext) -> dict[str, Any] | None:
    """Claim the next ticket for a window; None when nothing waits that it serves."""
    cfg = _hall(uow, cmd.hall)
    w = _window(uow, cmd.hall, cmd.window)
    if not cmd.actor.may_operate_window(cmd.hall, cmd.window, w.staff):
        raise Forbidden(f"只有{cmd.window}号窗口的工作人员可以叫号。Only window {cmd.window}'s staff may call.")
    w.check_can_call()
    now = ctx.now()
    policy = DispatchPolicy(cfg.rules.priority_ratio, cfg.rules.escalate_after_s)
    # Only today's queue: a ticket left waiting from an earlier day is never called.
    since = day_start(business_date(now, cfg.tz), cfg.tz)
    depth = sum(cfg.rules.priority_ratio)
    for _ in range(CLAIM_ATTEMPTS):
        waiting = uow.tickets.waiting_candidates(cmd.hall, w.categories, w.number, since)
        # The call history matters only where priority and normal tickets both wait.
        mixed = {c.category for c in waiting if c.priority and not c.appointment} & {
            c.category for c in waiting if not c.priority and not c.appointment}
        flags = {cat: uow.tickets.recent_priority_flags(cmd.hall, cat, depth) for cat in mixed}
        choice = choose_next(w.number, w.categories, waiting, flags, policy, now)
        if choice is None:
            return None
        t = uow.tickets.get(choice.ticket_id)
        if t is None or t.status is not TicketStatus.WAITING:
            continue
        before = t.version
        t.call(w.number, now)
        if uow.tickets.update(t, before):
            break
    else:
        raise ConcurrentUpdate("叫号冲突，请重试。Too many concurrent calls: try again.")
    before = w.version
    w.current_ticket = t.id
    w.version += 1
    if not uow.windows.update(w, before):
        # Another call at the same window won the race: this one must not take a ticket.
        raise WindowBusy(f"{cmd.window}号窗口刚刚叫了号。Window {cmd.window} has just called a ticket.")
    uow.record(ev.TicketCalled(t.hall, now, {"ticket": ticket_public(t, cfg.tz), "window": w.number,
                                             "window_name": w.name, "staff": w.staff}))
    body = resource(uow, ctx, cfg, t)
    uow.commit()
    return body


def recall_ticket(cmd: c.RecallTicket, uow: UnitOfWork, ctx: HandlerContext) -> dict[str, Any]:
    """Call a called ticket again (重呼), within the hall's recall limit."""
    t = _ticket(uow, cmd.actor, cmd.ticket_id)
    cfg = _hall(uow, t.hall)
    _check_operator(cmd.actor, t, uow)
    now = ctx.now()
    before = t.version
    t.recall(now, cfg.rules.recalls_before_no_show)
    _save_ticket(uow, t, before)
    uow.record(ev.TicketRecalled(t.hall, now, {"ticket": ticket_public(t, cfg.tz), "window": t.window,
                                               "recall_count": t.recall_count}))
    body = resource(uow, ctx, cfg, t)
    uow.commit()
    return body


def _simple_move(
    cmd: c.TicketCommand,
    uow: UnitOfWork,
    ctx: HandlerContext,
    apply: Callable[[Ticket, datetime, HallConfig], None],
    event: type[ev.Event],
    release: bool,
    extra: Callable[[Ticket], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    t = _ticket(uow, cmd.actor, cmd.ticket_id)
    cfg = _hall(uow, t.hall)
    _check_operator(cmd.actor, t, uow)
    now = ctx.now()
    before = t.version
    held_by = t.window
    apply(t, now, cfg)
    _save_ticket(uow, t, before)
    if release:
        _release_window(uow, t, held_by)
    data: dict[str, Any] = {"ticket": ticket_public(t, cfg.tz), "window": held_by}
    if extra:
        data.update(extra(t))
    uow.record(event(t.hall, now, data))
    body = resource(uow, ctx, cfg, t)
    uow.commit()
    return body


def start_service(cmd: c.StartService, uow: UnitOfWork, ctx: HandlerContext) -> dict[str, Any]:
    """The visitor arrived at the window."""
    return _simple_move(cmd, uow, ctx, lambda t, now, cfg: t.start(now), ev.TicketStarted, False)


def finish_service(cmd: c.FinishService, uow: UnitOfWork, ctx: HandlerContext) -> dict[str, Any]:
    """Service ended with an outcome; the window is free again."""
    try:
        outcome = Outcome(cmd.outcome)
    except ValueError:
        raise InvalidInput(
            f"未知的办结结果 {cmd.outcome!r}。outcome must be one of: {', '.join(o.value for o in Outcome)}."
        )

    def extra(t: Ticket) -> dict[str, Any]:
        service_s = (t.finished_at - t.started_at).total_seconds() if t.finished_at and t.started_at else None
        wait_s = (t.called_at - t.issued_at).total_seconds() if t.called_at else None
        return {"outcome": outcome.value, "service_s": round(service_s) if service_s is not None else None,
                "wait_s": round(wait_s) if wait_s is not None else None}

    def apply(t: Ticket, now: datetime, cfg: HallConfig) -> None:
        t.finish(outcome, now)
        matter = uow.matters.get(t.matter_id) if t.matter_id else None
        if matter is not None:
            before = matter.version
            matter.settle(outcome is Outcome.NEEDS_MATERIALS, now)
            _save(uow.matters, matter, before, "matter")

    return _simple_move(cmd, uow, ctx, apply, ev.TicketFinished, True, extra)


def mark_no_show(cmd: c.MarkNoShow, uow: UnitOfWork, ctx: HandlerContext) -> dict[str, Any]:
    """The visitor did not come after the calls (过号)."""
    return _simple_move(cmd, uow, ctx, lambda t, now, cfg: t.no_show(now), ev.TicketMissed, True)


def requeue_ticket(cmd: c.RequeueTicket, uow: UnitOfWork, ctx: HandlerContext) -> dict[str, Any]:
    """A missed visitor came back: waiting again, where the hall's rules put them."""

    def apply(t: Ticket, now: datetime, cfg: HallConfig) -> None:
        t.requeue(now, to_tail=cfg.rules.requeue_to is RequeuePosition.TAIL)

    return _simple_move(cmd, uow, ctx, apply, ev.TicketRequeued, False)


def transfer_ticket(cmd: c.TransferTicket, uow: UnitOfWork, ctx: HandlerContext) -> dict[str, Any]:
    """Send a ticket to another category or window, keeping its original place."""
    from_category: list[str] = []

    def apply(t: Ticket, now: datetime, cfg: HallConfig) -> None:
        if cmd.category is not None and cfg.category(cmd.category) is None:
            raise UnknownCategory(f"没有类别 {cmd.category}。No category '{cmd.category}'.")
        if cmd.window is not None:
            target = uow.windows.get(t.hall, cmd.window)
            if target is None:
                raise UnknownWindow(f"没有{cmd.window}号窗口。No window {cmd.window}.")
            if target.status is WindowStatus.CLOSED:
                raise WindowClosed(
                    f"{cmd.window}号窗口未开启，不能转入。Window {cmd.window} is closed: transfer to an open window."
                )
            category = cmd.category or t.category
            if category not in target.categories:
                raise InvalidInput(
                    f"{cmd.window}号窗口不办理类别 {category} 的业务。Window {cmd.window} does not serve {category}."
                )
        from_category.append(t.category)
        t.transfer(now, category=cmd.category, window=cmd.window)

    return _simple_move(
        cmd, uow, ctx, apply, ev.TicketTransferred, True,
        lambda t: {"from_category": from_category[0], "to_category": t.category, "to_window": t.target_window},
    )


def cancel_ticket(cmd: c.CancelTicket, uow: UnitOfWork, ctx: HandlerContext) -> dict[str, Any]:
    """Void a waiting ticket."""
    return _simple_move(cmd, uow, ctx, lambda t, now, cfg: t.cancel(now), ev.TicketCancelled, False)


# ---------------------------------------------------------------- windows

_WINDOW_MOVES: dict[type[c.WindowCommand], tuple[WindowMove, type[ev.Event]]] = {
    c.OpenWindow: (WindowMove.OPEN, ev.WindowOpened),
    c.PauseWindow: (WindowMove.PAUSE, ev.WindowPaused),
    c.ResumeWindow: (WindowMove.RESUME, ev.WindowResumed),
    c.CloseWindow: (WindowMove.CLOSE, ev.WindowClosed),
}


def move_window(cmd: c.WindowCommand, uow: UnitOfWork, ctx: HandlerContext) -> dict[str, Any]:
    """Open, pause, resume or close a window; a move that changes nothing records nothing."""
    cfg = _hall(uow, cmd.hall)
    w = _window(uow, cmd.hall, cmd.window)
    move, event = _WINDOW_MOVES[type(cmd)]
    if move is WindowMove.OPEN:
        allowed = cmd.actor.may_open_window(cmd.hall, cmd.window)
    else:
        allowed = cmd.actor.may_operate_window(cmd.hall, cmd.window, w.staff)
    if not allowed:
        raise Forbidden(f"无权操作{cmd.window}号窗口。You may not operate window {cmd.window}.")
    now = ctx.now()
    before = w.version
    staff = cmd.actor.name if cmd.actor.role is Role.STAFF else None
    changed = w.apply(move, now, reason=getattr(cmd, "reason", None), staff=staff)
    current = uow.tickets.get(w.current_ticket) if w.current_ticket else None
    body = window_public(w, cfg.tz, current)
    if changed:
        _save_window(uow, w, before)
        uow.record(event(w.hall, now, {"window": body}))
        uow.commit()
    return body


# ---------------------------------------------------------------- housekeeping


def close_day(cmd: c.CloseDay, uow: UnitOfWork, ctx: HandlerContext) -> int:
    """Cancel up to `limit` tickets left from earlier business days; return how many.

    Each gets a `ticket.cancelled` event with reason `day_closed`, and a window that
    still held one is freed, so nothing of yesterday lingers in today's hall.
    """
    if not cmd.actor.runs_hall(cmd.hall):
        raise Forbidden("无权整理该大厅的号票。You may not close the day of this hall.")
    cfg = _hall(uow, cmd.hall)
    now = ctx.now()
    today = business_date(now, cfg.tz)
    expired = 0
    for t in uow.tickets.leftovers(cmd.hall, today, cmd.limit):
        before = t.version
        held_by = t.window if t.status is TicketStatus.CALLED else None
        t.expire(now)
        _save_ticket(uow, t, before)
        _release_window(uow, t, held_by)
        uow.record(ev.TicketCancelled(t.hall, now, {"ticket": ticket_public(t, cfg.tz), "window": held_by,
                                                    "reason": "day_closed"}))
        expired += 1
    if expired:
        uow.commit()
    return expired


# ---------------------------------------------------------------- evaluations (好差评)


def submit_evaluation(cmd: c.SubmitEvaluation, uow: UnitOfWork, ctx: HandlerContext) -> dict[str, Any]:
    """Rate a served ticket once; a rating of 1 or 2 opens a rectification case."""
    if cmd.ticket_token is not None:
        found = uow.tickets.by_token(cmd.ticket_token)
        channel = EvaluationChannel.MOBILE  # the visitor's own status page
    else:
        found = uow.tickets.get(cmd.ticket_id or "")
        try:
            channel = EvaluationChannel(cmd.channel)
        except ValueError:
            channel = EvaluationChannel.DEFAULT  # refused just below
        if channel is EvaluationChannel.DEFAULT:
            raise InvalidInput("评价渠道应为 pad、kiosk 或 mobile。channel must be pad, kiosk or mobile.")
    if found is None or (cmd.ticket_token is None and not cmd.actor.sees_hall(found.hall)):
        raise NotFound("没有找到该号票。No such ticket.")
    t = found
    if cmd.ticket_token is None and not cmd.actor.may_evaluate(t.hall):
        raise Forbidden("无权提交评价。You may not submit evaluations.")
    level = parse_level(cmd.level)
    check_evaluable(t.status, uow.evaluations.for_ticket(t.id) is not None)
    cfg = _hall(uow, t.hall)
    now = ctx.now()
    e = _new_evaluation(uow, cfg, t, level, channel, cmd.comment.strip()[:MAX_COMMENT], now)
    body = evaluation_public(e, cfg.tz)
    uow.commit()
    return body


def _new_evaluation(uow: UnitOfWork, cfg: HallConfig, t: Ticket, level: Level, channel: EvaluationChannel,
                    comment: str, now: datetime) -> Evaluation:
    """Store an evaluation and its event (the window's staff at the time is remembered)."""
    w = uow.windows.get(t.hall, t.window) if t.window is not None else None
    e = Evaluation(id=str(uuid.uuid4()), hall=t.hall, ticket_id=t.id, level=level, channel=channel,
                   submitted_at=now, comment=comment, window=t.window, staff=w.staff if w else None)
    if opens_rectification(level):
        e.rectification = Rectification.OPEN
        e.rectification_due = add_working_days(cfg.local(now).date(), cfg.rules.rectification_days, cfg.hours)
    uow.evaluations.add(e)
    uow.record(ev.EvaluationSubmitted(t.hall, now, {
        "evaluation": evaluation_public(e, cfg.tz),
        "ticket": {"id": t.id, "number": t.number, "category": t.category, "item": t.item, "window": t.window},
        "default": channel is EvaluationChannel.DEFAULT,
    }))
    return e


def close_rectification(cmd: c.CloseRectification, uow: UnitOfWork, ctx: HandlerContext) -> dict[str, Any]:
    """A manager closes a bad rating's rectification case with what was done."""
    e = uow.evaluations.get(cmd.evaluation_id)
    if e is None or not cmd.actor.sees_hall(e.hall):
        raise NotFound("没有找到该评价。No such evaluation.")
    if not cmd.actor.runs_hall(e.hall):
        raise Forbidden("只有大厅管理员可以办结整改。Only the hall's managers close rectification cases.")
    cfg = _hall(uow, e.hall)
    now = ctx.now()
    before = e.version
    e.close(cmd.note, cmd.actor.name, now)
    _save(uow.evaluations, e, before, "evaluation")
    body = evaluation_public(e, cfg.tz)
    uow.record(ev.RectificationClosed(e.hall, now, {"evaluation": body}))
    uow.commit()
    return body


def apply_default_evaluations(cmd: c.ApplyDefaultEvaluations, uow: UnitOfWork, ctx: HandlerContext) -> int:
    """Rate 基本满意 the served tickets left unrated past the hall's working days; return how many."""
    if not cmd.actor.runs_hall(cmd.hall):
        raise Forbidden("无权为该大厅补充默认评价。You may not apply default ratings in this hall.")
    cfg = _hall(uow, cmd.hall)
    now = ctx.now()
    today = cfg.local(now).date()
    days = cfg.rules.evaluation_default_after_days
    # N working days are at least N calendar days: older tickets are the only candidates.
    cutoff = day_start(today - timedelta(days=days), cfg.tz)
    applied = 0
    for t in uow.evaluations.unrated(cmd.hall, cutoff, cmd.limit):
        finished = cfg.local(t.finished_at or now).date()
        if add_working_days(finished, days, cfg.hours) < today:
            _new_evaluation(uow, cfg, t, DEFAULT_LEVEL, EvaluationChannel.DEFAULT, "", now)
            applied += 1
    if applied:
        uow.commit()
    return applied


# ---------------------------------------------------------------- appointments (预约)


def _booking_channel(value: str) -> Channel:
    try:
        return Channel(value)
    except ValueError:
        raise InvalidInput(f"未知的预约渠道 {value!r}。channel must be online, mobile, counter or kiosk.")


def book_appointment(cmd: c.BookAppointment, uow: UnitOfWork, ctx: HandlerContext) -> dict[str, Any]:
    """Book a place in a slot: never more than its capacity, however many book at once."""
    if not cmd.actor.may_issue(cmd.hall):
        raise Forbidden("无权在该大厅预约。You may not book in this hall.")
    cfg = _hall(uow, cmd.hall)
    now = ctx.now()
    category, item = _category_and_item(cfg, cmd.category, cmd.item)
    channel = _booking_channel(cmd.channel)
    person = _applicant(cmd.applicant, cfg, now, ctx, cmd.actor, uow)
    assert person is not None  # the command always carries an applicant
    if cmd.slot_start.tzinfo is None:
        raise InvalidInput("slot_start 需要带时区。slot_start needs a UTC offset.")
    slot = find_slot(cfg, cmd.slot_start, always_open=ctx.always_open)
    last_day = cfg.local(now).date() + timedelta(days=cfg.rules.appointment_days_ahead)
    if slot is None or slot.start.date() > last_day:
        raise SlotUnavailable("没有这个预约时段。There is no such slot to book.")
    if slot.start <= now:
        raise SlotUnavailable("该时段已经开始或已过去，请选择以后的时段。The slot has begun or is in the past.")
    r = cfg.rules
    missed = uow.appointments.no_shows(
        cmd.hall, person[0], now - timedelta(days=r.no_show_window_days + r.no_show_block_days))
    until = blocked_until(missed, r.no_show_limit, r.no_show_window_days, r.no_show_block_days)
    if until is not None and cfg.local(now).date() < cfg.local(until).date():
        day = cfg.local(until).date().isoformat()
        raise BookingBlocked(
            f"{r.no_show_window_days}天内爽约{r.no_show_limit}次，{day}前不能预约。"
            f"{r.no_show_limit} missed appointments within {r.no_show_window_days} days: "
            f"booking is blocked until {day}.",
            extra={"blocked_until": day},
        )
    day_from = day_start(slot.start.date(), cfg.tz)
    for other in uow.appointments.of_person(cmd.hall, person[0], day_from, day_from + timedelta(days=1)):
        if other.status is AppointmentStatus.BOOKED and other.category == category.code:
            raise AlreadyBooked("您当天已预约该类业务。You have booked this category for that day already.")
    if not uow.appointments.take_place(cmd.hall, category.code, slot.start, r.appointment_slot_capacity):
        raise SlotFull("该时段已约满，请选择其他时段。This slot is full: choose another.")
    a = Appointment(
        id=str(uuid.uuid4()), hall=cmd.hall, category=category.code, item=item, slot_start=slot.start,
        slot_end=slot.end, applicant_key=person[0], applicant_masked=person[1], channel=channel.value,
        code=new_code(ctx.applicant_secret), created_at=now,
    )
    uow.appointments.add(a)
    _remember(uow, ctx, cmd.applicant, person, now)
    body = appointment_public(a, cfg.tz)
    uow.record(ev.AppointmentBooked(a.hall, now, {"appointment": _appointment_event(body)}))
    uow.commit()
    return body


def _appointment_event(body: dict[str, Any]) -> dict[str, Any]:
    """An appointment as events carry it: without its code (the code is the visitor's key)."""
    return {k: v for k, v in body.items() if k != "code"}


def cancel_appointment(cmd: c.CancelAppointment, uow: UnitOfWork, ctx: HandlerContext) -> dict[str, Any]:
    """Cancel a booking; its place is free again."""
    a = uow.appointments.get(cmd.appointment_id)
    if a is None or not cmd.actor.sees_hall(a.hall):
        raise NotFound("没有找到该预约。No such appointment.")
    if not cmd.actor.may_issue(a.hall):
        raise Forbidden("无权取消预约。You may not cancel appointments.")
    cfg = _hall(uow, a.hall)
    now = ctx.now()
    before = a.version
    a.cancel()
    _save(uow.appointments, a, before, "appointment")
    uow.appointments.free_place(a.hall, a.category, a.slot_start)
    body = appointment_public(a, cfg.tz)
    uow.record(ev.AppointmentCancelled(a.hall, now, {"appointment": _appointment_event(body)}))
    uow.commit()
    return body


def check_in(cmd: c.CheckIn, uow: UnitOfWork, ctx: HandlerContext) -> dict[str, Any]:
    """Check a booking in by its QR code or the person's ID; its ticket goes ahead of walk-ins."""
    if not cmd.actor.may_issue(cmd.hall):
        raise Forbidden("无权在该大厅签到。You may not check in appointments in this hall.")
    cfg = _hall(uow, cmd.hall)
    now = ctx.now()
    person = _applicant(cmd.applicant, cfg, now, ctx, cmd.actor, uow)
    if cmd.code is not None:
        found = uow.appointments.by_code(cmd.code.strip().upper()) if code_is_authentic(
            ctx.applicant_secret, cmd.code) else None
        if found is None or found.hall != cmd.hall:
            raise NotFound("预约码无效，请核对。This appointment code is not valid here.")
        if person is not None and person[0] != found.applicant_key:
            raise InvalidInput("证件与预约人不符。The ID does not match the person who booked.")
        a = found
    elif person is not None:
        day_from = day_start(cfg.local(now).date(), cfg.tz)
        # Today's bookings, and one just after midnight whose check-in window is already open.
        until = max(day_from + timedelta(days=1), now + timedelta(minutes=cfg.rules.check_in_before_min + 1))
        mine = [x for x in uow.appointments.of_person(cmd.hall, person[0], day_from, until)
                if x.status in (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)]
        if not mine:
            raise NotFound("没有找到您今天的预约。No appointment for this ID today.")
        # The booking whose window is open now, else the nearest one (its window explains the refusal).
        a = min(mine, key=lambda x: (not (x.check_window(cfg)[0] <= now <= x.check_window(cfg)[1]),
                                     abs((x.slot_start - now).total_seconds())))
    else:
        raise InvalidInput("请出示预约码或身份证。Give the appointment code or the applicant.")
    before = a.version
    a.check_in(now, cfg)
    category = cfg.category(a.category)
    if category is None:
        raise UnknownCategory(f"类别 {a.category} 已不再办理。Category {a.category} is no longer served.")
    body = _new_ticket(uow, ctx, cfg, now, category=category, item=a.item, channel=Channel(a.channel),
                       applicant=(a.applicant_key, a.applicant_masked), appointment=True)
    a.ticket_id = body["id"]
    _save(uow.appointments, a, before, "appointment")
    uow.record(ev.AppointmentCheckedIn(a.hall, now, {"appointment": _appointment_event(
        appointment_public(a, cfg.tz)), "ticket": ticket_public_of(body)}))
    uow.commit()
    return body


def ticket_public_of(body: dict[str, Any]) -> dict[str, Any]:
    """A ticket body without what only its holder should see (the status page's URL)."""
    return {k: v for k, v in body.items() if k != "status_url"}


def close_appointment_day(cmd: c.CloseAppointmentDay, uow: UnitOfWork, ctx: HandlerContext) -> int:
    """Bookings whose slot ended on an earlier day without a check-in become no-shows; how many."""
    if not cmd.actor.runs_hall(cmd.hall):
        raise Forbidden("无权整理该大厅的预约。You may not close the appointments of this hall.")
    cfg = _hall(uow, cmd.hall)
    now = ctx.now()
    today = day_start(cfg.local(now).date(), cfg.tz)
    missed = 0
    for a in uow.appointments.overdue(cmd.hall, today, cmd.limit):
        before = a.version
        a.miss()
        if uow.appointments.update(a, before):
            uow.record(ev.AppointmentMissed(a.hall, now, {"appointment": _appointment_event(
                appointment_public(a, cfg.tz))}))
            missed += 1
    if missed:
        uow.commit()
    return missed


# ---------------------------------------------------------------- identity


def reveal_applicant(cmd: c.RevealApplicant, uow: UnitOfWork, ctx: HandlerContext) -> dict[str, Any]:
    """A manager sees a ticket's full ID number; the reveal is written to the audit log first."""
    t = _ticket(uow, cmd.actor, cmd.ticket_id)
    if not cmd.actor.runs_hall(t.hall):
        raise Forbidden("只有大厅管理员可以查看完整证件号码。Only the hall's managers may reveal an ID number.")
    reason = cmd.reason.strip()
    if len(reason) < 2:
        raise InvalidInput("请填写查看原因。Give the reason for looking at the full number.")
    stored = uow.applicants.get(t.applicant_key) if t.applicant_key else None
    if stored is None:
        raise NotFound("该号票没有登记证件。No ID number is recorded for this ticket.")
    now = ctx.now()
    value = ctx.vault.open(stored.sealed, stored.key)
    uow.audit.add(AuditEntry(id=str(uuid.uuid4()), hall=t.hall, at=now, actor=cmd.actor.name,
                             action="reveal_applicant", subject=f"ticket:{t.id}", detail=reason[:200]))
    uow.commit()
    log.info("ID number of ticket %s revealed to %s (audited)", t.number, cmd.actor.name)
    name = ctx.vault.open(stored.name_sealed, stored.key) if stored.name_sealed else None
    return {"ticket": t.id, "number": t.number, "id_type": stored.id_type, "id_number": value,
            "masked": stored.masked, "name": name, "name_masked": stored.name_masked}


HANDLERS: dict[type[c.Command], Callable[[Any, UnitOfWork, HandlerContext], Any]] = {
    c.RevealApplicant: reveal_applicant,
    c.BookAppointment: book_appointment,
    c.CancelAppointment: cancel_appointment,
    c.CheckIn: check_in,
    c.CloseAppointmentDay: close_appointment_day,
    c.SubmitEvaluation: submit_evaluation,
    c.CloseRectification: close_rectification,
    c.ApplyDefaultEvaluations: apply_default_evaluations,
    c.CloseDay: close_day,
    c.IssueTicket: issue_ticket,
    c.CallNext: call_next,
    c.RecallTicket: recall_ticket,
    c.StartService: start_service,
    c.FinishService: finish_service,
    c.MarkNoShow: mark_no_show,
    c.RequeueTicket: requeue_ticket,
    c.TransferTicket: transfer_ticket,
    c.CancelTicket: cancel_ticket,
    c.OpenWindow: move_window,
    c.PauseWindow: move_window,
    c.ResumeWindow: move_window,
    c.CloseWindow: move_window,
}
