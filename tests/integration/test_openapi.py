"""The OpenAPI document: valid 3.1, the same routes as the app, and true to the app under fuzzing.

The fuzzing (schemathesis, positive and negative data) runs in-process (WSGI) against a real
container on SQLite, with the example hall loaded, windows open, tickets in every state and
an admin's bearer token. Real hall codes, window numbers, ticket ids and body values are
mixed into the generated requests, so most of them reach the handlers rather than stopping
at 404. Besides the response checks, every 4xx answer must leave the database as it was.
ONEDOOR_FUZZ_EXAMPLES raises the number of examples for a deeper (slower) run.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import func, select

from hall_server.adapters.db.tables import metadata
from hall_server.bootstrap import Container, bootstrap
from hall_server.settings import Settings
from hall_server.web import create_app
from hall_server.web.openapi import openapi_document

OPENAPI_PATH = "/api/v1/openapi.json"
ADMIN_PASSWORD = "admin-pass-123"
METHODS = {"get", "put", "post", "delete", "patch"}
# Flask's own asset route is not part of the API.
NOT_API = {"static", "pages.board", "pages.ticket"}  # the static files and the HTML pages are not part of the API
# Failed logins are recorded on purpose (that is how login throttling counts them), so a
# 401 from POST /auth/login legitimately adds a row here; every other table must not change.
WRITTEN_ON_REJECTION = {"login_failures"}
# Fuzzed examples per operation (on top of the coverage phase's boundary cases); the default
# keeps the file well under 90 s. Raise it for a deeper run: ONEDOOR_FUZZ_EXAMPLES=500.
MAX_EXAMPLES = int(os.environ.get("ONEDOOR_FUZZ_EXAMPLES", "40"))
# Valid check digits (GB 11643 and GB 32100), so that some fuzzed tickets carry an applicant.
VALID_RESIDENT_ID = "530124198001010013"
VALID_USCC = "91530124MA6K00000Q"

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@dataclass
class Env:
    """A running app over a fresh database, and what the fuzzing needs to know about it."""

    app: Flask
    container: Container
    hall: str
    token: str
    tickets: dict[str, str]  # state -> ticket id

    def client(self) -> FlaskClient:
        """A test client of the app."""
        return self.app.test_client()

    def headers(self) -> dict[str, str]:
        """The admin's bearer token."""
        return {"Authorization": f"Bearer {self.token}"}

    def row_counts(self) -> dict[str, int]:
        """Rows in every table (except the ones a rejection may legitimately write)."""
        with self.container.db.read.connect() as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in metadata.sorted_tables if t.name not in WRITTEN_ON_REJECTION}


def _ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, (resp.status_code, resp.get_json())
    return resp.get_json()


def _prepare_hall(env: Env) -> None:
    """Open windows 1-6 and 9-14 and leave tickets in every state."""
    c, h, base = env.client(), env.headers(), f"/api/v1/halls/{env.hall}"
    for n in (*range(1, 7), *range(9, 15)):
        _ok(c.post(f"{base}/windows/{n}/open", headers=h))

    def issue(category: str) -> str:
        return str(_ok(c.post(f"{base}/tickets", json={"category": category, "channel": "kiosk"}, headers=h), 201)["id"])

    def call(window: int) -> str:
        return str(_ok(c.post(f"{base}/windows/{window}/call-next", headers=h))["ticket"]["id"])

    for category in ("A", "B", "C", "D", "E", "F"):
        env.tickets[f"waiting-{category}"] = issue(category)
    for _ in range(4):
        issue("B")
    env.tickets["done"] = call(10)
    _ok(c.post(f"/api/v1/tickets/{env.tickets['done']}/start", headers=h))
    _ok(c.post(f"/api/v1/tickets/{env.tickets['done']}/finish", json={"outcome": "completed"}, headers=h))
    env.tickets["missed"] = call(10)
    _ok(c.post(f"/api/v1/tickets/{env.tickets['missed']}/no-show", headers=h))
    env.tickets["serving"] = call(11)
    _ok(c.post(f"/api/v1/tickets/{env.tickets['serving']}/start", headers=h))
    env.tickets["called"] = call(12)
    cancelled = issue("B")
    _ok(c.post(f"/api/v1/tickets/{cancelled}/cancel", headers=h))
    env.tickets["cancelled"] = cancelled


def _set_real_values(env: Env) -> None:
    """Tell the fuzzing hooks which hall codes, ids and field values really exist."""
    views = env.container.views
    tickets = [views.ticket(t)[1] for t in sorted(env.tickets.values())]
    windows = [w["number"] for w in views.windows(env.hall)]
    REAL_PATH.update(hall=[env.hall], number=windows, ticket_id=[t["id"] for t in tickets],
                     token=[t["status_url"].rsplit("/", 1)[1] for t in tickets])
    REAL_BODY.update(
        category=[c["code"] for c in views.categories(env.hall)],
        item=[i["code"] for i in views.items(env.hall)[:5]],
        window=windows,
        applicant=[{"id_type": "resident_id", "id_number": VALID_RESIDENT_ID},
                   {"id_type": "uscc", "id_number": VALID_USCC, "name": "富民县示例有限公司"}],
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """A container on a fresh SQLite database with the example hall, an admin and an app."""
    tmp_path: Path = tmp_path_factory.mktemp("openapi")
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/t.db",
                        secret_key=b"0123456789abcdef0123", always_open=True)
    container = bootstrap(settings)
    hall = container.init_database()["hall"]
    container.auth.add_user("admin", ADMIN_PASSWORD, "admin")
    # Logout revokes the caller's token, so it is fuzzed with throwaway sessions of this user.
    container.auth.add_user("leaver", ADMIN_PASSWORD, "admin")
    app = create_app(container=container)
    login = _ok(app.test_client().post("/api/v1/auth/login",
                                       json={"username": "admin", "password": ADMIN_PASSWORD}))
    e = Env(app=app, container=container, hall=hall, token=login["token"], tickets={})
    _prepare_hall(e)
    _set_real_values(e)
    yield e
    REAL_PATH.clear()
    REAL_BODY.clear()
    container.close()


# ---------------------------------------------------------------- the document itself


def test_document_is_valid_openapi_31() -> None:
    """The document passes the OpenAPI 3.1 meta-schema (and every $ref resolves)."""
    doc = openapi_document()
    assert doc["openapi"] == "3.1.0"
    try:
        from openapi_spec_validator import validate
    except ImportError:  # the same meta-schema check schemathesis performs when loading a schema
        from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

        OPENAPI_31_VALIDATOR.validate(doc)
    else:
        validate(doc)


def test_not_blank_pattern_is_what_strip_keeps() -> None:
    """The `pattern` of request strings accepts exactly what `str.strip()` leaves non-empty.

    Checked with both regex engines in play: Python's (hypothesis generates from it) and
    jsonschema_rs's ECMA-262 one (schemathesis validates with it). Whitespace is all in the BMP.
    """
    import jsonschema_rs

    from hall_server.web.openapi import NOT_BLANK

    validator = jsonschema_rs.validator_for({"type": "string", "pattern": NOT_BLANK})
    python = re.compile(NOT_BLANK)
    for code in range(0x10000):
        if 0xD800 <= code < 0xE000:
            continue
        char = chr(code)
        kept = bool(char.strip())
        assert validator.is_valid(char) is kept, hex(code)
        assert bool(python.search(char)) is kept, hex(code)


def test_served_document_is_the_document(env: Env) -> None:
    """GET /api/v1/openapi.json serves openapi_document() as JSON."""
    resp = env.client().get(OPENAPI_PATH)
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    assert resp.get_json() == openapi_document()


def _flask_paths(app: Flask) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every route, `any(...)` segments expanded to each value."""
    out: set[tuple[str, str]] = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_API:
            continue
        paths = [""]
        for part in re.split(r"(<[^>]+>)", rule.rule):
            m = re.fullmatch(r"<(?:[^:>]+:)?(\w+)>", part)
            if m is None:
                paths = [p + part for p in paths]
                continue
            name = m.group(1)
            items = getattr(rule._converters[name], "items", None)  # AnyConverter
            values = sorted(items) if items is not None else [f"{{{name}}}"]
            paths = [p + v for p in paths for v in values]
        methods = {m.lower() for m in rule.methods or ()} & METHODS
        out.update((p, m) for p in paths for m in methods)
    return out


def test_every_route_is_documented_and_nothing_else(env: Env) -> None:
    """The document's paths and methods are exactly the Flask app's routes."""
    documented = {(path, method) for path, item in openapi_document()["paths"].items()
                  for method in item if method in METHODS}
    routes = _flask_paths(env.app)
    assert routes - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routes == set(), "documented operations the app does not have"


def test_enums_match_the_domain() -> None:
    """The enums spelled out in the document are the domain's and the views' own values."""
    from hall_server.domain.actors import PERSON_ROLES, Role
    from hall_server.domain.hall import PRIORITY_GROUPS, HallLevel, ItemType
    from hall_server.domain.tickets import Channel, Outcome, TicketStatus
    from hall_server.domain.windows import WindowStatus
    from hall_server.web import auth, openapi

    views = importlib.import_module("hall_server.web.api")  # the package exports the blueprint as `api`
    pairs = [
        ([s.value for s in TicketStatus], openapi.TICKET_STATUSES),
        ([s.value for s in Channel], openapi.CHANNELS),
        (list(views.CHANNELS), openapi.CHANNELS),
        ([s.value for s in Outcome], openapi.OUTCOMES),
        (list(views.OUTCOMES), openapi.OUTCOMES),
        (list(PRIORITY_GROUPS), openapi.PRIORITY_GROUPS),
        (list(views.PRIORITY_GROUPS), openapi.PRIORITY_GROUPS),
        (list(views.ID_TYPES), openapi.ID_TYPES),
        ([s.value for s in WindowStatus], openapi.WINDOW_STATUSES),
        ([s.value for s in HallLevel], openapi.HALL_LEVELS),
        ([s.value for s in Role if s is not Role.VISITOR], openapi.ROLES),  # VISITOR holds no bearer token
        ([s.value for s in PERSON_ROLES], openapi.PERSON_ROLES),
        ([s.value for s in ItemType], openapi.ITEM_TYPES),
        ([r.value for r in views.ISSUERS], openapi.ISSUERS),
        ([r.value for r in auth.STAFF_UP], openapi.STAFF_UP),
        ([r.value for r in auth.ANY_ROLE], openapi.ANY_ROLE),
        ([r.value for r in views.RATERS], openapi.RATERS),
        ([r.value for r in views.MANAGERS], openapi.MANAGERS),
        (list(views.EVALUATION_CHANNELS), openapi.EVALUATION_CHANNELS),
        (list(views.BOOKING_CHANNELS), openapi.BOOKING_CHANNELS),
    ]
    for expected, documented in pairs:
        assert expected == list(documented)


def test_operations_declare_security() -> None:
    """Every operation states its security: `[]` when public, the bearer scheme otherwise."""
    public = {"login", "listHalls", "listCategories", "listItems", "getQueue", "getTicketByToken",
              "evaluateByToken", "listSlots", "listBundles", "getOpenApi", "healthz"}
    for item in openapi_document()["paths"].values():
        for op in item.values():
            expected = [] if op["operationId"] in public else [{"bearerAuth": []}]
            assert op["security"] == expected, op["operationId"]
            if op["operationId"] not in public:
                assert "401" in op["responses"], op["operationId"]


def test_operation_ids_are_unique_and_links_resolve() -> None:
    """operationIds are unique, and every response link names one of them and a real parameter."""
    ops = {op["operationId"]: op for _, _, op in _operations()}
    assert len(ops) == len(list(_operations()))
    shared = openapi_document()["components"]["parameters"]
    for op in ops.values():
        for response in op["responses"].values():
            for link in response.get("links", {}).values():
                target = ops[link["operationId"]]
                names = {p["name"] if "name" in p else shared[p["$ref"].rsplit("/", 1)[1]]["name"]
                         for p in target.get("parameters", [])}
                assert set(link["parameters"]) <= names, link


# ---------------------------------------------------------------- fuzzing


# Real values mixed into generated requests (path parameters and top-level body fields, by
# name), filled in by the `env` fixture before any case is drawn.
REAL_PATH: dict[str, list[Any]] = {}
REAL_BODY: dict[str, list[Any]] = {}

schema = schemathesis.openapi.from_dict(openapi_document(), config=schemathesis.Config.from_dict({
    "generation": {
        "mode": "all",
        "max-examples": MAX_EXAMPLES,
        "deterministic": True,
        # The test sends the admin's token itself; missing tokens are test_protected_operations_need_a_token's.
        "with-security-parameters": False,
    },
}))


def _real_or(value: Any, real: list[Any]) -> st.SearchStrategy[Any]:
    """One of the real values three times in four, else the generated value."""
    return st.integers(0, 3).flatmap(lambda k: st.just(value) if k == 3 else st.sampled_from(real))


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: Any) -> st.SearchStrategy[Any]:
    """Real hall codes, window numbers, ticket ids and status tokens, so requests reach the handlers."""
    if not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    return st.fixed_dictionaries({name: _real_or(value, REAL_PATH[name]) if name in REAL_PATH else st.just(value)
                                  for name, value in path_parameters.items()})


def _use_real_fields(case: Any) -> None:
    """In a positive case, swap body fields for real values three times in four (seeded by the body).

    Not a generation hook: a hook cannot tell positive from negative cases, and making a
    negative body valid would turn it into a false "invalid data accepted".
    """
    if not isinstance(case.body, dict) or case.meta is None or case.meta.generation.mode.is_negative:
        return
    rng = random.Random(zlib.crc32(json.dumps(case.body, sort_keys=True, default=str).encode()))
    for name, values in REAL_BODY.items():
        if name in case.body and rng.random() < 0.75:
            case.body[name] = rng.choice(values)


@schema.parametrize()
def test_api_conforms_to_document(case: Any, env: Env) -> None:
    """No 5xx, responses as documented, and a rejected request changes nothing."""
    headers = env.headers()
    if case.operation.definition.raw["operationId"] == "logout":
        token, _ = env.container.auth.login("leaver", ADMIN_PASSWORD, "192.0.2.1")
        headers = {"Authorization": f"Bearer {token}"}
    _use_real_fields(case)
    before = env.row_counts()
    response = case.call(app=env.app, headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)
    if 400 <= response.status_code < 500:
        assert env.row_counts() == before, f"{case.method} {case.formatted_path} -> {response.status_code}"


# ---------------------------------------------------------------- auth, outside the fuzzing


def _operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in openapi_document()["paths"].items():
        for method, op in item.items():
            yield path, method, op


def _fill(path: str, env: Env, hall: str | None = None) -> str:
    """The path with real values (or `hall`) in its parameters."""
    return (path.replace("{hall}", hall or env.hall).replace("{number}", "1")
            .replace("{ticket_id}", env.tickets["waiting-A"]).replace("{token}", "no-such-token"))


def test_protected_operations_need_a_token(env: Env) -> None:
    """Every operation with a security requirement answers 401 problem+json without a token."""
    client = env.client()
    for path, method, op in _operations():
        if not op["security"]:
            continue
        before = env.row_counts()
        resp = client.open(_fill(path, env), method=method.upper())
        assert resp.status_code == 401, (method, path, resp.status_code)
        assert resp.mimetype == "application/problem+json"
        assert resp.get_json()["code"] == "unauthenticated"
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert "401" in op["responses"]
        assert env.row_counts() == before


def test_wrong_role_or_hall_is_403(env: Env) -> None:
    """A board token gets 403 wherever the document promises one: wrong role, or another hall."""
    _, token = env.container.auth.add_device(env.hall, "board")
    client = env.client()
    for path, method, op in _operations():
        if "403" not in op["responses"]:
            continue
        hall = env.hall if "board" not in op["x-onedoor-roles"] else "another-hall"
        before = env.row_counts()
        resp = client.open(_fill(path, env, hall), method=method.upper(),
                           headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 403, (method, path, resp.status_code)
        assert resp.get_json()["code"] == "forbidden"
        assert env.row_counts() == before


# ---------------------------------------------------------------- known server bugs
# Bad input must be a 4xx and never a 500 (API.md "Conventions"). Each test below reproduces
# one crash found by targeted probes beside the fuzzing (inputs schemathesis does not
# generate), fixed since.


def _assert_refused(env: Env, resp: Any, before: dict[str, int]) -> None:
    assert 400 <= resp.status_code < 500, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    assert env.row_counts() == before


def test_huge_window_number_is_404(env: Env) -> None:
    """POST .../windows/99999999999999999999/open is an unknown window, not a crash."""
    before = env.row_counts()
    resp = env.client().post(f"/api/v1/halls/{env.hall}/windows/99999999999999999999/open", headers=env.headers())
    _assert_refused(env, resp, before)
    assert resp.status_code == 404


def test_superscript_digit_in_id_number_is_422(env: Env) -> None:
    """`str.isdigit()` accepts '²', which `int()` then refuses inside the check-digit sum."""
    before = env.row_counts()
    body = {"category": "A", "channel": "kiosk",
            "applicant": {"id_type": "resident_id", "id_number": "11010119900101\u00b2234"}}
    resp = env.client().post(f"/api/v1/halls/{env.hall}/tickets", json=body, headers=env.headers())
    _assert_refused(env, resp, before)
    assert resp.get_json()["code"] == "invalid_id_number"


def test_deeply_nested_json_is_a_4xx(env: Env) -> None:
    """A small body of 5000 '[' is refused like any other malformed or invalid body."""
    before = env.row_counts()
    resp = env.client().post(f"/api/v1/halls/{env.hall}/tickets", data=b"[" * 5000,
                             content_type="application/json", headers=env.headers())
    _assert_refused(env, resp, before)


@pytest.mark.parametrize(("path", "raw"), [
    ("/api/v1/auth/login", r'{"username": "\ud800", "password": "\ud800"}'),
    ("/api/v1/halls/{hall}/windows/1/pause", r'{"reason": "\ud800"}'),
    ("/api/v1/halls/{hall}/tickets",
     r'{"category": "A", "channel": "kiosk", "applicant": {"id_type": "uscc", "id_number": "\ud800"}}'),
])
def test_lone_surrogate_in_json_is_a_4xx(env: Env, path: str, raw: str) -> None:
    """JSON may escape a lone surrogate; it is not a character and must be refused, not crash."""
    _ok(env.client().post(f"/api/v1/halls/{env.hall}/windows/1/open", headers=env.headers()))  # pausable
    before = env.row_counts()
    resp = env.client().post(path.format(hall=env.hall), data=raw.encode(), content_type="application/json",
                             headers=env.headers())
    _assert_refused(env, resp, before)
