"""The OpenAPI 3.1 document of the hall server's HTTP API (served at GET /api/v1/openapi.json).

It is built from small helpers rather than one literal, and it mirrors what the web layer
really does: request schemas are exactly what `hall_server.web.validation` accepts
(unknown fields are refused, optional fields may be `null`, strings must hold a
non-space character), responses are exactly what the presenters and read views return,
and every error is `application/problem+json` with a `code` from
`hall_server.protocol.ProblemCode`. tests/integration/test_openapi.py checks the
document against the Flask app (same routes) and fuzzes the app with it (same shapes).

The domain may not be imported here, so its enums (ticket states, outcomes, roles, ...)
are spelled out below; the test keeps them in step with the domain.
"""

from __future__ import annotations

from typing import Any

from hall_server.protocol import PROBLEM_STATUS, EventType, ProblemCode

Schema = dict[str, Any]

API = "/api/v1"
BEARER = "bearerAuth"

# Enums of the wire (the domain's values; see the module docstring).
TICKET_STATUSES = ("waiting", "called", "serving", "done", "missed", "cancelled")
CHANNELS = ("kiosk", "counter", "online", "mobile")
OUTCOMES = ("completed", "accepted", "needs_materials", "rejected", "consulted")
PRIORITY_GROUPS = ("elderly", "disabled", "military", "pregnant")
ID_TYPES = ("resident_id", "uscc")
WINDOW_STATUSES = ("closed", "open", "paused")
HALL_LEVELS = ("province", "prefecture", "county", "township", "village")
ROLES = ("admin", "manager", "staff", "kiosk", "board", "evaluator")
EVALUATION_CHANNELS = ("pad", "kiosk", "mobile")
BOOKING_CHANNELS = ("online", "mobile", "counter", "kiosk")
APPOINTMENT_STATUSES = ("booked", "checked_in", "cancelled", "no_show")
RECTIFICATION_STATES = ("open", "closed")
PERSON_ROLES = ("admin", "manager", "staff")
ITEM_TYPES = ("行政许可", "行政征收", "行政确认", "行政给付", "其他行政权力", "公共服务")

# Who may call what (API.md "Conventions").
ANY_ROLE = ROLES
STAFF_UP = PERSON_ROLES
ISSUERS = ("admin", "manager", "staff", "kiosk")
RATERS = ("admin", "manager", "evaluator", "kiosk")
MANAGERS = ("admin", "manager")

# "Holds a character that Python's str.strip() keeps", as `Fields.string` requires. The
# regex `\S` alone differs between ECMA-262 and Python at U+001C-U+001F, U+0085 and U+FEFF.
NOT_BLANK = r"[^\s\x1c-\x1f\x85]|\ufeff"

# Statuses a request with a JSON body can add: bad JSON, too large, not JSON, invalid.
BODY_ERRORS = (400, 413, 415, 422)

_RESPONSE_NAMES = {
    400: ("MalformedJson", "请求内容不是合法的 JSON (malformed JSON)."),
    401: ("Unauthenticated", "没有有效令牌或用户名密码错误 (no valid bearer token, or bad credentials)."),
    403: ("Forbidden", "角色或大厅/窗口不符 (the token's role, hall or window does not allow this)."),
    404: ("NotFound", "没有该大厅、窗口、号票或地址 (no such hall, window, ticket or resource)."),
    409: ("Conflict", "大厅当前状态不允许 (the hall's current state forbids it)."),
    413: ("PayloadTooLarge", "请求内容超过 2 MiB (the body is larger than 2 MiB)."),
    415: ("UnsupportedMediaType", "请使用 Content-Type: application/json (send JSON)."),
    422: ("InvalidRequest", "请求内容有误，未做任何修改 (a value is wrong; nothing was changed)."),
    429: ("TooManyRequests", "次数超限 (a daily ticket limit or login throttling)."),
}


# ---------------------------------------------------------------- schema helpers


def ref(name: str) -> Schema:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """`schema` or JSON null."""
    return {"anyOf": [schema, {"type": "null"}]}


def string(description: str | None = None, **keywords: Any) -> Schema:
    """A string schema with optional JSON Schema keywords."""
    out: Schema = {"type": "string", **keywords}
    if description:
        out["description"] = description
    return out


def text_field(max_len: int, description: str) -> Schema:
    """A request string as `Fields.string` takes it: 1..max_len characters, not only spaces."""
    return string(description, minLength=1, maxLength=max_len, pattern=NOT_BLANK)


def enum(values: tuple[str, ...], description: str | None = None) -> Schema:
    """A string enum."""
    return string(description, enum=list(values))


def integer(description: str | None = None, **keywords: Any) -> Schema:
    """An integer schema with optional bounds."""
    out: Schema = {"type": "integer", **keywords}
    if description:
        out["description"] = description
    return out


def timestamp(description: str) -> Schema:
    """An RFC 3339 instant with offset, in the hall's time zone."""
    return string(description, format="date-time")


def array(items: Schema, description: str | None = None) -> Schema:
    """A JSON array of `items`."""
    out: Schema = {"type": "array", "items": items}
    if description:
        out["description"] = description
    return out


def obj(properties: dict[str, Schema], required: tuple[str, ...] | None = None, *,
        description: str | None = None, strict: bool = True, **keywords: Any) -> Schema:
    """A JSON object; every property is required unless `required` says otherwise."""
    out: Schema = {"type": "object", "properties": properties,
                   "required": list(properties if required is None else required)}
    if strict:
        out["additionalProperties"] = False
    if description:
        out["description"] = description
    out.update(keywords)
    return out


def request_body(properties: dict[str, Schema], required: tuple[str, ...] = (), *,
                 body_required: bool = True, description: str | None = None, **keywords: Any) -> Schema:
    """A JSON request body: an object that refuses unknown fields (422)."""
    body: Schema = {
        "required": body_required,
        "content": {"application/json": {"schema": obj(properties, required, **keywords)}},
    }
    if description:
        body["description"] = description
    return body


def empty_body() -> Schema:
    """An optional body that must be empty: no body, or `{}`."""
    return request_body({}, body_required=False,
                        description="没有内容，或空对象 `{}` (no body, or an empty object); any field is refused.")


# ---------------------------------------------------------------- response helpers


def json_response(description: str, schema: Schema, headers: dict[str, Any] | None = None) -> Schema:
    """A JSON response."""
    out: Schema = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        out["headers"] = headers
    return out


def problem_responses(*statuses: int) -> dict[str, Schema]:
    """References to the shared problem+json responses."""
    return {str(s): {"$ref": f"#/components/responses/{_RESPONSE_NAMES[s][0]}"} for s in statuses}


def codes_for(status: int) -> list[str]:
    """The problem codes that carry `status`."""
    return [code.value for code, s in PROBLEM_STATUS.items() if s == status]


def problem_response_component(status: int) -> Schema:
    """A shared problem+json response whose `code` is one of the codes of that status."""
    schema: Schema = {"allOf": [ref("Problem"), {"properties": {
        "status": {"const": status}, "code": {"enum": codes_for(status)}}}]}
    out: Schema = {"description": _RESPONSE_NAMES[status][1],
                   "content": {"application/problem+json": {"schema": schema}}}
    if status == 401:
        out["headers"] = {"WWW-Authenticate": {"description": 'Always `Bearer realm="onedoor"`.',
                                               "required": True, "schema": string(pattern="^Bearer ")}}
    if status == 429:
        out["headers"] = {"Retry-After": {"description": "Seconds to wait (login throttling only).",
                                          "schema": integer(minimum=0)}}
    return out


# ---------------------------------------------------------------- operations


def operation(op_id: str, tag: str, summary: str, *, roles: tuple[str, ...] | None,
              ok: dict[str, Schema], errors: tuple[int, ...] = (), description: str | None = None,
              parameters: list[Schema] | None = None, body: Schema | None = None,
              links: dict[str, Schema] | None = None) -> Schema:
    """One operation; `roles=None` means public (no token), otherwise a bearer token of one of `roles`."""
    statuses = set(errors)
    if roles is not None:
        statuses.add(401)
        if set(roles) != set(ANY_ROLE):
            statuses.add(403)
    if body is not None:
        statuses.update(BODY_ERRORS)
    responses: dict[str, Schema] = dict(ok)
    responses.update(problem_responses(*sorted(statuses)))
    if links:
        for status, link_set in links.items():
            responses[status] = {**responses[status], "links": link_set}
    doc = description or summary
    if roles is not None:
        doc += f"\n\nRoles (角色): {', '.join(roles)}."
    out: Schema = {
        "operationId": op_id,
        "tags": [tag],
        "summary": summary,
        "description": doc,
        "security": [] if roles is None else [{BEARER: []}],
        "responses": responses,
    }
    if roles is not None:
        out["x-onedoor-roles"] = list(roles)
    if parameters:
        out["parameters"] = parameters
    if body is not None:
        out["requestBody"] = body
    return out


def param(name: str) -> Schema:
    """A reference to a shared parameter."""
    return {"$ref": f"#/components/parameters/{name}"}


def query(name: str, schema: Schema, description: str, *, allow_empty: bool = False) -> Schema:
    """An optional query parameter (`allow_empty`: `?name=` counts as absent)."""
    out: Schema = {"name": name, "in": "query", "required": False, "description": description, "schema": schema}
    if allow_empty:
        out["allowEmptyValue"] = True
    return out


def ticket_link(op_id: str, pointer: str) -> Schema:
    """An OpenAPI link that passes the ticket id of a response on to `op_id`."""
    return {"operationId": op_id, "parameters": {"ticket_id": f"$response.body#{pointer}"}}


def ticket_links(pointer: str, op_ids: tuple[str, ...]) -> dict[str, Schema]:
    """Links from a response holding a ticket to the ticket's own operations."""
    return {op_id[0].upper() + op_id[1:]: ticket_link(op_id, pointer) for op_id in op_ids}


def ticket_response() -> Schema:
    """A 200/201 response holding one ticket."""
    return json_response("The ticket (号票).", ref("Ticket"))


# ---------------------------------------------------------------- component schemas


def _ticket_schema() -> Schema:
    return obj({
        "id": string("Ticket id.", format="uuid"),
        "number": string("Category prefix and daily sequence, e.g. `A001` (widens past 999: `A1000`).",
                         pattern=r"^[A-Z]{1,2}[0-9]{3,}$"),
        "hall": string("Hall code."),
        "category": string("Category code (业务类别), e.g. `A`."),
        "item": nullable(string("Service item code (事项编码).")),
        "bundle": nullable(string("一件事 bundle code, for a ticket that serves a bundle of items.")),
        "channel": enum(CHANNELS, "Where the ticket was issued (取号渠道)."),
        "status": enum(TICKET_STATUSES, "Ticket state: waiting -> called -> serving -> done; "
                                        "called -> missed -> waiting; waiting -> cancelled."),
        "priority_group": nullable(enum(PRIORITY_GROUPS, "Priority group (优先群体).")),
        "appointment": {"type": "boolean", "description": "Issued by an appointment check-in (预约)."},
        "applicant": nullable(string("Masked ID number of the applicant (脱敏证件号).")),
        "window": nullable(integer("Window that called the ticket.", minimum=1, maximum=9999)),
        "target_window": nullable(integer("Window a transfer sent the ticket to.", minimum=1, maximum=9999)),
        "issued_at": timestamp("When the ticket was issued (取号时间)."),
        "called_at": nullable(timestamp("Last call (叫号时间).")),
        "started_at": nullable(timestamp("Service start (开始办理).")),
        "finished_at": nullable(timestamp("Service end (办结时间).")),
        "outcome": nullable(enum(OUTCOMES, "How the service ended (办结结果).")),
        "recall_count": integer("Recalls at the current call (重呼次数).", minimum=0),
        "matter": nullable(obj({
            "id": string("The person's matter (办件事项).", format="uuid"),
            "trip": integer("Which trip of the matter this visit is (跑动次数): 2 = a second visit.", minimum=1),
        }, description="Only for tickets with an applicant.")),
        "position": nullable(integer("Place in the queue, 1 = next (only while waiting).", minimum=1)),
        "estimated_wait_s": nullable(integer("Estimated wait in seconds (only while waiting).", minimum=0)),
        "status_url": string("The visitor's own status page `/t/{token}` (the QR code on the ticket).",
                             format="uri"),
    }, description="A ticket (号票) with its position and estimated wait.")


def _window_schema() -> Schema:
    current = obj({
        "id": string(format="uuid"),
        "number": string(),
        "status": enum(TICKET_STATUSES),
        "category": string(),
        "called_at": nullable(timestamp("When it was called.")),
    }, description="The called or serving ticket the window holds.")
    return obj({
        "number": integer("Window number.", minimum=1, maximum=9999),
        "name": string("Window name, e.g. 企业服务一号窗."),
        "categories": array(string(), "Categories the window serves, best first."),
        "status": enum(WINDOW_STATUSES, "Window state (窗口状态)."),
        "pause_reason": nullable(string("Why the window is paused (暂停原因).")),
        "staff": nullable(string("User name of the staff member signed in.")),
        "status_since": nullable(timestamp("When the status last changed.")),
        "current_ticket": nullable(current),
    }, description="A service window (窗口).")


def _item_schema() -> Schema:
    material = obj({
        "name": string(), "originals": integer(minimum=0), "copies": integer(minimum=0),
        "required": {"type": "boolean"}, "note": string(),
    }, description="An application material (申请材料).")
    flags = obj({name: {"type": "boolean"} for name in ("one_trip", "appointment", "online", "comprehensive_window")},
                description="最多跑一次, 可预约, 网上可办, 综合窗口受理.")
    return obj({
        "code": string("Item code (事项编码).", pattern=r"^[A-Z0-9-]+$", maxLength=50),
        "name": string("Item name (事项名称)."),
        "type": enum(ITEM_TYPES, "Item type (事项类型)."),
        "category": string("Category code."),
        "department": string("Responsible department (实施部门)."),
        "pinyin": string("Pinyin initials for search.", pattern="^[a-z]*$"),
        "legal_basis": string("设定依据."),
        "authority_scope": string("权限范围."),
        "time_limit": obj({"legal_days": integer(minimum=0), "promised_days": integer(minimum=0),
                           "note": string()}, description="办理时限, in working days."),
        "procedure": array(string(), "办理流程."),
        "conditions": string("办理条件."),
        "materials": array(material, "申请材料."),
        "forms": array(string(), "申请表单."),
        "fees": string("收费标准."),
        "result": string("办理结果."),
        "flags": flags,
    }, description="A service item (政务服务事项) with its 12 standard elements (十二要素).")


def _queue_schema() -> Schema:
    category = obj({
        "code": string(), "name": string(),
        "waiting": integer("Tickets waiting.", minimum=0),
        "longest_wait_s": integer("Wait of the oldest waiting ticket, seconds.", minimum=0),
    })
    call = obj({"number": string(), "window": integer(minimum=1, maximum=9999), "category": string(),
                "called_at": timestamp("When it was called.")})
    return obj({
        "categories": array(category, "Every category of the hall, in configuration order."),
        "recent_calls": array(call, "The latest calls, newest first (what the board shows)."),
    }, description="Queue state of a hall (排队状态).")


def _problem_schema() -> Schema:
    return obj({
        "type": string("`https://onedoor.example/problems/{code}`.", format="uri"),
        "title": string("Short English summary."),
        "status": integer("HTTP status.", minimum=400, maximum=599),
        "detail": string("A sentence a person can act on (Chinese first, then English)."),
        "code": enum(tuple(c.value for c in ProblemCode), "Stable machine word."),
        "field": string("The offending field or query parameter, when there is one."),
        "fields": array(string(), "Unknown fields that were refused."),
        "move": string("The ticket move that was refused (illegal_transition)."),
        "retry_after": integer("Seconds to wait (too_many_attempts).", minimum=0),
    }, required=("type", "title", "status", "detail", "code"), strict=False,
        description="RFC 9457 problem details with a stable `code`.")


def components() -> Schema:
    """Shared schemas, parameters, responses and the security scheme."""
    user = obj({
        "username": string(), "role": enum(PERSON_ROLES), "hall": nullable(string()),
        "window": nullable(integer(minimum=1, maximum=9999)),
    })
    schemas: dict[str, Schema] = {
        "Ticket": _ticket_schema(),
        "Window": _window_schema(),
        "Item": _item_schema(),
        "Queue": _queue_schema(),
        "Problem": _problem_schema(),
        "Evaluation": _evaluation_schema(),
        "Appointment": _appointment_schema(),
        "Hall": obj({
            "code": string("Hall code, e.g. `fumin`."), "name": string("Hall name (大厅名称)."),
            "level": enum(HALL_LEVELS, "Administrative level (省/州市/县/乡/村)."),
            "timezone": string("IANA time zone, e.g. `Asia/Shanghai`."),
        }, description="A government service hall (政务服务大厅)."),
        "Category": obj({
            "code": string(), "name": string("Chinese name, e.g. 企业服务."), "name_en": string(),
            "prefix": string("Ticket number prefix.", pattern="^[A-Z]{1,2}$"),
        }, description="A comprehensive-window class (综合窗口类别)."),
        "Event": obj({
            "id": string(format="uuid"),
            "seq": integer("Per-hall sequence, from 1, never repeated.", minimum=1),
            "type": enum(tuple(t.value for t in EventType)),
            "hall": string(),
            "occurred_at": timestamp("When it happened."),
            "data": {"type": "object", "description": "Event payload; personal data only masked."},
        }, description="An event envelope (事件)."),
        "LoginResult": obj({"token": string("Bearer token."), "user": user}),
        "Me": obj({"name": string("User name, or `device:NAME` for a device."), "role": enum(ROLES),
                   "hall": nullable(string()), "window": nullable(integer(minimum=1, maximum=9999))}),
        "Applicant": obj({
            "id_type": enum(ID_TYPES, "`resident_id` 居民身份证 or `uscc` 统一社会信用代码."),
            "id_number": text_field(32, "The number; its check digit is verified (422 invalid_id_number)."),
            "name": nullable(text_field(50, "Name (optional).")),
            "override_check": nullable({"type": "boolean", "description": "Staff accept a pre-2015 credit code "
                                        "whose check character fails, after seeing the licence (audited)."}),
        }, required=("id_type", "id_number"), description="The applicant (申请人)."),
    }
    path_string = {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}
    parameters = {
        "Hall": {"name": "hall", "in": "path", "required": True, "schema": path_string,
                 "description": "Hall code (大厅编码), e.g. `fumin`; unknown halls are 404."},
        "WindowNumber": {"name": "number", "in": "path", "required": True,
                         "schema": integer(minimum=1, maximum=9999),
                         "description": "Window number (窗口号); unknown windows are 404."},
        "TicketId": {"name": "ticket_id", "in": "path", "required": True,
                     "schema": {**path_string, "format": "uuid"},
                     "description": "Ticket id; unknown (or another hall's) tickets are 404."},
        "StatusToken": {"name": "token", "in": "path", "required": True,
                        "schema": {**path_string, "maxLength": 64},
                        "description": "The token of the ticket's QR code; unknown tokens are 404."},
        "IdempotencyKey": {
            "name": "Idempotency-Key", "in": "header", "required": False,
            "schema": string(minLength=1, maxLength=200),
            "description": "Makes retries safe: the same key with the same body returns the first ticket "
                           "and changes nothing; with another body it is 422 idempotency_key_reused.",
        },
    }
    return {
        "schemas": schemas,
        "parameters": parameters,
        "responses": {name: problem_response_component(status) for status, (name, _) in _RESPONSE_NAMES.items()},
        "securitySchemes": {BEARER: {
            "type": "http", "scheme": "bearer",
            "description": "A person's token from POST /api/v1/auth/login, or a device token made with "
                           "`onedoor device add` (kiosk, board, evaluator).",
        }},
    }


# ---------------------------------------------------------------- paths


def _auth_paths() -> dict[str, Schema]:
    login_body = request_body({
        "username": text_field(64, "User name (用户名)."),
        "password": text_field(200, "Password (密码)."),
    }, ("username", "password"))
    return {
        f"{API}/auth/login": {"post": operation(
            "login", "auth", "Log in (登录): exchange a user name and password for a bearer token.",
            roles=None, body=login_body, errors=(401, 429),
            ok={"200": json_response("Logged in.", ref("LoginResult"))},
            description="Log in (登录). 401 bad_credentials on a wrong name or password; 429 "
                        "too_many_attempts after repeated failures (with Retry-After).")},
        f"{API}/auth/logout": {"post": operation(
            "logout", "auth", "Log out (退出): revoke the caller's own token.", roles=ANY_ROLE,
            ok={"204": {"description": "The token is revoked."}})},
        f"{API}/auth/me": {"get": operation(
            "me", "auth", "Who the token belongs to.", roles=ANY_ROLE,
            ok={"200": json_response("The caller.", ref("Me"))})},
    }


def _hall_paths() -> dict[str, Schema]:
    hall = f"{API}/halls/{{hall}}"
    return {
        f"{API}/halls": {"get": operation(
            "listHalls", "halls", "Every hall (大厅列表).", roles=None,
            ok={"200": json_response("The halls.", array(ref("Hall")))})},
        f"{hall}/categories": {"get": operation(
            "listCategories", "halls", "The hall's comprehensive-window categories (业务类别).", roles=None,
            parameters=[param("Hall")], errors=(404,),
            ok={"200": json_response("The categories.", array(ref("Category")))})},
        f"{hall}/items": {"get": operation(
            "listItems", "halls", "Service items (政务服务事项) with their standard elements.", roles=None,
            parameters=[param("Hall"), query("q", string(maxLength=100),
                                             "Filter by name, code or pinyin initials (at most 100 characters).")],
            errors=(404, 422),
            ok={"200": json_response("The items.", array(ref("Item")))})},
        f"{hall}/queue": {"get": operation(
            "getQueue", "queue", "Waiting counts per category and the latest calls (排队状态).", roles=None,
            parameters=[param("Hall")], errors=(404,),
            ok={"200": json_response("The queue.", ref("Queue"))})},
        f"{hall}/events": {"get": operation(
            "listEvents", "queue", "The hall's events after `after`, in seq order (catch-up after a reconnect).",
            roles=ANY_ROLE, errors=(403, 404, 422),
            parameters=[param("Hall"),
                        query("after", integer(minimum=0, maximum=2**62, default=0),
                              "Last seq already seen (empty: 0).", allow_empty=True),
                        query("limit", integer(minimum=1, maximum=1000, default=100),
                              "At most this many events (empty: 100).", allow_empty=True)],
            ok={"200": json_response("Events with seq > after.", array(ref("Event")))})},
    }


def _window_paths() -> dict[str, Schema]:
    base = f"{API}/halls/{{hall}}/windows"
    window_params = [param("Hall"), param("WindowNumber")]
    moves = {
        "open": ("openWindow", "Open the window (开窗); opening an open window is a no-op.", empty_body(), (409,)),
        "pause": ("pauseWindow", "Pause the window (暂停服务) with a reason.",
                  request_body({"reason": text_field(200, "Why (暂停原因), shown on the board.")}, ("reason",)),
                  (409,)),
        "resume": ("resumeWindow", "Resume a paused window (恢复服务).", empty_body(), (409,)),
        "close": ("closeWindow", "Close the window (关窗); 409 window_busy while it holds a ticket.",
                  empty_body(), (409,)),
    }
    paths: dict[str, Schema] = {
        base: {"get": operation(
            "listWindows", "windows", "Windows with status, staff and current ticket.", roles=ANY_ROLE,
            parameters=[param("Hall")], errors=(403, 404),
            ok={"200": json_response("The windows.", array(ref("Window")))})},
    }
    for move, (op_id, summary, body, conflicts) in moves.items():
        paths[f"{base}/{{number}}/{move}"] = {"post": operation(
            op_id, "windows", summary, roles=STAFF_UP, parameters=window_params, body=body,
            errors=(404, *conflicts), ok={"200": json_response("The window (窗口) after the move.", ref("Window"))})}
    paths[f"{base}/{{number}}/call-next"] = {"post": operation(
        "callNext", "windows", "Call the next ticket to the window (叫号).", roles=STAFF_UP,
        parameters=window_params, body=empty_body(), errors=(404, 409),
        description="Call the next ticket to the window (叫号): 200 with the ticket now `called`, or 204 "
                    "when nothing waits that this window serves. 409 window_busy / window_closed / window_paused.",
        ok={"200": json_response("The called ticket.", obj({"ticket": ref("Ticket")})),
            "204": {"description": "Nothing waits that this window serves."}},
        links={"200": ticket_links("/ticket/id", ("recallTicket", "startService", "markNoShow", "transferTicket"))})}
    return paths


def _ticket_paths() -> dict[str, Schema]:
    ticket = f"{API}/tickets/{{ticket_id}}"
    issue_body = request_body({
        "category": nullable(text_field(8, "Category code (业务类别), e.g. `A`.")),
        "item": nullable(text_field(64, "Service item code (事项编码); its category is used.")),
        "bundle": nullable(text_field(64, "一件事 bundle code: several items, one ticket, one window.")),
        "channel": enum(CHANNELS, "Where the ticket is issued (取号渠道)."),
        "applicant": nullable(ref("Applicant")),
        "priority_group": nullable(enum(PRIORITY_GROUPS, "Priority group (优先群体): served ahead by ratio; "
                                                          "who may grant each is the hall's rule (403).")),
        "priority_reason": nullable(text_field(200, "Why the group applies (e.g. 残疾人证 seen); kept for "
                                                    "audit, never published.")),
    }, ("channel",), anyOf=[
        {"required": ["category"], "properties": {"category": {"type": "string"}}},
        {"required": ["item"], "properties": {"item": {"type": "string"}}},
        {"required": ["bundle"], "properties": {"bundle": {"type": "string"}}},
    ], description="One of `category`, `item` and `bundle` is required.")
    moves = {
        "recall": ("recallTicket", "Call a called ticket again (重呼); 409 recall_limit past the hall's limit."),
        "start": ("startService", "The visitor arrived: start serving (开始办理)."),
        "no-show": ("markNoShow", "The visitor did not come (过号)."),
        "requeue": ("requeueTicket", "A missed visitor came back: waiting again (重新排队)."),
        "cancel": ("cancelTicket", "Void a waiting ticket (取消)."),
    }
    paths: dict[str, Schema] = {
        f"{API}/halls/{{hall}}/tickets": {"post": operation(
            "issueTicket", "tickets", "Issue a ticket (取号).", roles=ISSUERS,
            parameters=[param("Hall"), param("IdempotencyKey")], body=issue_body, errors=(404, 409, 429),
            description="Issue a ticket (取号). 422 invalid_id_number for a wrong ID number or credit code; "
                        "409 hall_closed or no_open_window; 429 ticket_limit past the per-person daily limit.",
            ok={"201": ticket_response()},
            links={"201": ticket_links("/id", ("getTicket", "cancelTicket", "transferTicket"))})},
        ticket: {"get": operation(
            "getTicket", "tickets", "One ticket with position, estimate and times.", roles=ANY_ROLE,
            parameters=[param("TicketId")], errors=(404,), ok={"200": ticket_response()})},
        f"{API}/t/{{token}}": {"get": operation(
            "getTicketByToken", "tickets", "A visitor's own ticket, by the token in its QR code (no login).",
            roles=None, parameters=[param("StatusToken")], errors=(404,), ok={"200": ticket_response()})},
        f"{ticket}/finish": {"post": operation(
            "finishService", "tickets", "Finish serving with an outcome (办结).", roles=STAFF_UP,
            parameters=[param("TicketId")], errors=(404, 409), ok={"200": ticket_response()},
            body=request_body({"outcome": enum(OUTCOMES, "办结结果.")}, ("outcome",)))},
        f"{ticket}/transfer": {"post": operation(
            "transferTicket", "tickets", "Send a ticket to another category and/or window (转移), "
                                         "keeping its original issue time for ordering.",
            roles=STAFF_UP, parameters=[param("TicketId")], errors=(404, 409), ok={"200": ticket_response()},
            body=request_body({
                "category": nullable(text_field(8, "Target category.")),
                "window": nullable(integer("Target window.", minimum=1, maximum=9999)),
            }, anyOf=[
                {"required": ["category"], "properties": {"category": {"type": "string"}}},
                {"required": ["window"], "properties": {"window": {"type": "integer"}}},
            ], description="One of `category` and `window` is required."))},
    }
    for move, (op_id, summary) in moves.items():
        paths[f"{ticket}/{move}"] = {"post": operation(
            op_id, "tickets", summary, roles=STAFF_UP, parameters=[param("TicketId")], body=empty_body(),
            errors=(404, 409), ok={"200": ticket_response()},
            description=f"{summary} 409 illegal_transition when the ticket's state does not allow it.")}
    return paths


def _appointment_schema() -> Schema:
    return obj({
        "id": string("Appointment id.", format="uuid"),
        "hall": string("Hall code."),
        "code": string("What the visitor's QR code carries (signed, not guessable)."),
        "category": string("Category code."),
        "item": nullable(string("Service item code.")),
        "slot_start": timestamp("Start of the booked slot."),
        "slot_end": timestamp("End of the booked slot."),
        "status": enum(APPOINTMENT_STATUSES, "booked, checked_in (has its ticket), cancelled, no_show (爽约)."),
        "channel": enum(BOOKING_CHANNELS, "Where it was booked."),
        "applicant": string("The applicant's masked ID number."),
        "ticket": nullable(string("The ticket issued at check-in.", format="uuid")),
        "checked_in_at": nullable(timestamp("When it checked in.")),
    }, description="An appointment (预约).")


def _appointment_paths() -> dict[str, Schema]:
    hall = f"{API}/halls/{{hall}}"
    appointment = json_response("The appointment.", ref("Appointment"))
    return {
        f"{hall}/slots": {"get": operation(
            "listSlots", "appointments", "A day's appointment slots of a category (预约时段).", roles=None,
            parameters=[param("Hall"),
                        {"name": "date", "in": "query", "required": True, "description": "The day, YYYY-MM-DD.",
                         "schema": string(format="date")},
                        {"name": "category", "in": "query", "required": True, "description": "Category code.",
                         "schema": string(minLength=1, maxLength=8)}],
            errors=(404, 422),
            ok={"200": json_response("The slots.", array(obj({
                "start": timestamp("Slot start."), "end": timestamp("Slot end."),
                "capacity": integer("Places per slot.", minimum=1), "booked": integer("Places taken.", minimum=0),
            })))})},
        f"{hall}/appointments": {"post": operation(
            "bookAppointment", "appointments", "Book a slot (预约).", roles=ISSUERS,
            parameters=[param("Hall")], errors=(404, 409), ok={"201": appointment},
            body=request_body({
                "category": nullable(text_field(8, "Category code.")),
                "item": nullable(text_field(64, "Service item code; its category is used.")),
                "slot_start": text_field(40, "Start of the slot, RFC 3339 with offset (a start from GET slots)."),
                "applicant": ref("Applicant"),
                "channel": enum(BOOKING_CHANNELS, "Where it is booked."),
            }, ("slot_start", "applicant", "channel"), anyOf=[
                {"required": ["category"], "properties": {"category": {"type": "string"}}},
                {"required": ["item"], "properties": {"item": {"type": "string"}}},
            ], description="One of `category` and `item` is required."),
            description="Book a slot. 409 slot_full, 409 already_booked (one booking per person, category "
                        "and day), 409 booking_blocked after repeated no-shows; 422 slot_unavailable for a "
                        "slot in the past, too far ahead or not the hall's; 422 invalid_id_number.")},
        f"{API}/appointments/{{appointment_id}}/cancel": {"post": operation(
            "cancelAppointment", "appointments", "Cancel a booking; its place is free again.", roles=ISSUERS,
            parameters=[{"name": "appointment_id", "in": "path", "required": True,
                         "schema": {"type": "string", "minLength": 1, "pattern": "^[^/]+$"},
                         "description": "Appointment id; unknown ones are 404."}],
            body=empty_body(), errors=(404, 409), ok={"200": appointment},
            description="Cancel a booking. 409 illegal_transition when it is not booked any more.")},
        f"{hall}/check-in": {"post": operation(
            "checkIn", "appointments", "Check a booking in (签到取号): its ticket, ahead of walk-ins.",
            roles=ISSUERS, parameters=[param("Hall")], errors=(404, 409, 429), ok={"201": ticket_response()},
            body=request_body({
                "code": nullable(text_field(64, "The code of the booking's QR.")),
                "applicant": nullable(ref("Applicant")),
            }, anyOf=[
                {"required": ["code"], "properties": {"code": {"type": "string"}}},
                {"required": ["applicant"], "properties": {"applicant": {"type": "object"}}},
            ], description="The QR code, or the ID of the person who booked (or both, which must agree)."),
            description="Check in by code or by ID. 409 outside_check_in_window (with check_in_from and "
                        "check_in_until), 409 already_checked_in (no second ticket), 409 illegal_transition "
                        "for a cancelled or missed booking, 404 for an unknown code or no booking today.")},
    }


def _evaluation_schema() -> Schema:
    return obj({
        "id": string("Evaluation id.", format="uuid"),
        "hall": string("Hall code."),
        "ticket": string("The rated ticket's id.", format="uuid"),
        "level": integer("5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意.", minimum=1, maximum=5),
        "level_name": string("The level in Chinese."),
        "channel": enum((*EVALUATION_CHANNELS, "default"),
                        "Where it came from; `default` is 基本满意 given when no rating came in time."),
        "comment": string("The visitor's comment (may be empty)."),
        "submitted_at": timestamp("When it was submitted."),
        "window": nullable(integer("The window that served the ticket.", minimum=1, maximum=9999)),
        "staff": nullable(string("The staff member signed in at that window.")),
        "rectification": nullable(enum(RECTIFICATION_STATES, "整改 case of a rating of 1 or 2.")),
        "rectification_due": nullable(string("Due date (working days later).", format="date")),
        "rectification_note": nullable(string("What was done (整改情况).")),
        "closed_by": nullable(string("Who closed the case.")),
        "closed_at": nullable(timestamp("When the case was closed.")),
    }, description="A service evaluation (好差评).")


def _evaluation_paths() -> dict[str, Schema]:
    rating = {
        "level": integer("5 非常满意 ... 1 非常不满意.", minimum=1, maximum=5),
        "comment": nullable(text_field(500, "Comment (评价内容), optional.")),
    }
    evaluation = json_response("The evaluation.", ref("Evaluation"))
    rate_doc = ("409 not_served for a ticket that was not served, 409 already_evaluated for a second "
                "rating. A rating of 1 or 2 opens a rectification case (整改).")
    return {
        f"{API}/tickets/{{ticket_id}}/evaluation": {"post": operation(
            "evaluateTicket", "evaluations", "Rate a served ticket (好差评), once.", roles=RATERS,
            parameters=[param("TicketId")], errors=(404, 409), ok={"201": evaluation},
            body=request_body({**rating, "channel": enum(EVALUATION_CHANNELS, "Rating pad, kiosk or phone.")},
                              ("level", "channel")),
            description=f"Rate a served ticket (好差评), once. {rate_doc}")},
        f"{API}/t/{{token}}/evaluation": {"post": operation(
            "evaluateByToken", "evaluations", "The visitor rates their own served ticket (no login).",
            roles=None, parameters=[param("StatusToken")], errors=(404, 409), ok={"201": evaluation},
            body=request_body(rating, ("level",)),
            description=f"The visitor rates their own served ticket from its status page. {rate_doc}")},
        f"{API}/halls/{{hall}}/evaluations": {"get": operation(
            "listEvaluations", "evaluations", "The hall's evaluations, newest first.", roles=MANAGERS,
            parameters=[param("Hall"),
                        query("rectification", enum(RECTIFICATION_STATES), "Only open or closed cases."),
                        query("limit", integer(minimum=1, maximum=1000), "At most this many (default 100).",
                              allow_empty=True)],
            errors=(404, 422), ok={"200": json_response("The evaluations.", array(ref("Evaluation")))})},
        f"{API}/evaluations/{{evaluation_id}}/close": {"post": operation(
            "closeRectification", "evaluations", "Close a bad rating's rectification case (整改办结).",
            roles=MANAGERS,
            parameters=[{"name": "evaluation_id", "in": "path", "required": True,
                         "schema": {"type": "string", "minLength": 1, "pattern": "^[^/]+$"},
                         "description": "Evaluation id; unknown ones are 404."}],
            errors=(404, 409), ok={"200": evaluation},
            body=request_body({"note": text_field(500, "What was done (整改情况).")}, ("note",)),
            description="Close a bad rating's rectification case with a note. 409 rectification_not_open "
                        "when there is no open case.")},
    }


def _audit_paths() -> dict[str, Schema]:
    return {
        f"{API}/tickets/{{ticket_id}}/applicant/reveal": {"post": operation(
            "revealApplicant", "audit", "A manager sees the full ID number of a ticket's applicant (audited).",
            roles=MANAGERS, parameters=[param("TicketId")], errors=(404,),
            body=request_body({"reason": text_field(200, "Why the full number is needed (查看原因).")}, ("reason",)),
            ok={"200": json_response("The full number; the reveal is in the audit log.", obj({
                "ticket": string(format="uuid"), "number": string("Ticket number."),
                "id_type": enum(ID_TYPES), "id_number": string("The full number."),
                "masked": string("The masked form shown everywhere else."),
                "name": nullable(string("The name, when one was read or given.")),
                "name_masked": nullable(string("The masked name, e.g. 张*.")),
            }))},
            description="Reveal an applicant's full ID number. The reveal (who, when, why) is written to the "
                        "audit log before the number is returned; 404 when the ticket has no ID recorded.")},
        f"{API}/halls/{{hall}}/audit": {"get": operation(
            "listAudit", "audit", "The hall's audit log, newest first.", roles=MANAGERS,
            parameters=[param("Hall"), query("limit", integer(minimum=1, maximum=1000),
                                             "At most this many (default 100).", allow_empty=True)],
            errors=(404, 422), ok={"200": json_response("Entries.", array(obj({
                "id": string(format="uuid"), "at": timestamp("When."), "actor": string("Who."),
                "action": string("What, e.g. reveal_applicant."), "subject": string("On what, e.g. ticket:ID."),
                "detail": string("Why."),
            })))})},
    }


def _bundle_paths() -> dict[str, Schema]:
    return {
        f"{API}/halls/{{hall}}/bundles": {"get": operation(
            "listBundles", "halls", "一件事 bundles: several items as one matter, one ticket, one window.",
            roles=None, parameters=[param("Hall"), query("q", string(maxLength=100), "Name, code or pinyin "
                                                                                      "initials.")],
            errors=(404, 422), ok={"200": json_response("The bundles.", array(obj({
                "code": string(), "name": string(), "category": string(), "pinyin": string(),
                "items": array(obj({"code": string(), "name": string()})),
            })))})},
    }


def _catalogue_paths() -> dict[str, Schema]:
    hall = f"{API}/halls/{{hall}}"
    item_code = {"name": "code", "in": "path", "required": True, "description": "Item code (事项编码).",
                 "schema": {"type": "string", "minLength": 1, "maxLength": 50, "pattern": "^[^/]+$"}}
    changed = json_response("The catalogue after the change.", obj({
        "hall": string(), "version": integer("The hall's configuration version.", minimum=1),
        "items": integer("Items now in the catalogue.", minimum=0)}))
    item_body = {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "description": "One item as in config/README.md (`items[]`): the 12 elements, type, "
                                         "category, flags; validated like a configuration file (422)."}}}}
    return {
        f"{hall}/catalogue": {
            "get": operation(
                "exportCatalogue", "catalogue", "Export the service catalogue (事项目录) as JSON.", roles=MANAGERS,
                parameters=[param("Hall")], errors=(404,), ok={"200": json_response("The catalogue.", obj({
                    "hall": string(), "version": integer(minimum=1), "items": array(ref("Item")),
                    "bundles": array(obj({"code": string(), "name": string(), "category": string(),
                                          "items": array(string()), "pinyin": string()}))}))}),
            "put": operation(
                "importCatalogue", "catalogue", "Replace the whole catalogue: every item valid, or nothing "
                                                "changes (同源 import).", roles=MANAGERS,
                parameters=[param("Hall")], errors=(404,), ok={"200": changed},
                body={"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["items"],
                    "properties": {"items": {"type": "array", "maxItems": 5000, "items": {"type": "object"}},
                                   "bundles": {"type": ["array", "null"], "maxItems": 5000,
                                               "items": {"type": "object"}},
                                   "hall": {}, "version": {}},
                    "additionalProperties": False}}}}),
        },
        f"{hall}/items/{{code}}": {
            "put": operation(
                "putItem", "catalogue", "Add or replace one service item.", roles=MANAGERS,
                parameters=[param("Hall"), item_code], errors=(404,), ok={"200": changed}, body=item_body),
            "delete": operation(
                "deleteItem", "catalogue", "Remove one service item.", roles=MANAGERS,
                parameters=[param("Hall"), item_code], errors=(404,), ok={"200": changed}),
        },
    }


def _matter_paths() -> dict[str, Schema]:
    return {
        f"{API}/halls/{{hall}}/matters": {"get": operation(
            "listMatters", "matters", "Matters by trips (最多跑一次): who had to come more than once.",
            roles=MANAGERS,
            parameters=[param("Hall"),
                        query("status", enum(("open", "closed")), "Only open or closed matters."),
                        query("min_trips", integer(minimum=1, maximum=1000), "At least this many trips.",
                              allow_empty=True),
                        query("limit", integer(minimum=1, maximum=1000), "At most this many (default 100).",
                              allow_empty=True)],
            errors=(404, 422), ok={"200": json_response("Matters, most trips first.", array(obj({
                "id": string(format="uuid"),
                "subject": string("`item:CODE` or `category:CODE`."),
                "applicant": string("The applicant's masked ID number."),
                "status": enum(("open", "closed")),
                "trips": integer(minimum=1),
                "last_visit": string(format="date"),
                "opened_at": timestamp("First visit."),
                "closed_at": nullable(timestamp("When it was settled.")),
            })))})},
    }


def _meta_paths() -> dict[str, Schema]:
    return {
        f"{API}/openapi.json": {"get": operation(
            "getOpenApi", "meta", "This OpenAPI 3.1 document.", roles=None,
            ok={"200": json_response("The document.", {"type": "object", "required": ["openapi", "paths"]})})},
        "/healthz": {"get": operation(
            "healthz", "meta", "Liveness for process supervisors.", roles=None,
            ok={"200": json_response("Alive.", obj({"status": {"const": "ok"}}))})},
    }


def openapi_document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document of the hall server's HTTP API."""
    paths: dict[str, Schema] = {}
    for part in (_auth_paths, _hall_paths, _window_paths, _ticket_paths, _appointment_paths, _evaluation_paths,
                 _audit_paths, _matter_paths, _catalogue_paths, _bundle_paths, _meta_paths):
        paths.update(part())
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": "OneDoor hall server (一门式政务服务大厅排队叫号)",
            "version": "1",
            "summary": "Queueing and window management for government service halls.",
            "description": "JSON in and out, UTF-8. Times are RFC 3339 with offset; durations are whole "
                           "seconds (`*_s`). Every error is `application/problem+json` (RFC 9457) with a "
                           "stable `code`. Bad input never produces a 500 and never changes state. "
                           "Send `Authorization: Bearer <token>`.",
        },
        "tags": [
            {"name": "auth", "description": "Log in and tokens (登录)."},
            {"name": "halls", "description": "Halls and their configuration (大厅配置)."},
            {"name": "windows", "description": "Windows and calling (窗口与叫号)."},
            {"name": "tickets", "description": "Tickets (号票)."},
            {"name": "queue", "description": "Queue state and events (排队状态与事件)."},
            {"name": "appointments", "description": "Appointments (预约) and check-in (签到取号)."},
            {"name": "evaluations", "description": "Service evaluations (好差评) and rectification (整改)."},
            {"name": "catalogue", "description": "The service catalogue (事项目录): edit, import, export."},
            {"name": "matters", "description": "Matters and trips (最多跑一次)."},
            {"name": "audit", "description": "Audited reveals of personal data (审计)."},
            {"name": "meta", "description": "This document and health."},
        ],
        "security": [{BEARER: []}],
        "paths": paths,
        "components": components(),
    }
