"""The domain's error codes and event names stay in step with the wire contract."""

from __future__ import annotations

import inspect

import pytest

import hall_server.domain.errors as domain_errors
import hall_server.domain.events as domain_events
from hall_server.domain.errors import DomainError
from hall_server.protocol.events import EVENT_TYPES, EventType
from hall_server.protocol.problems import PROBLEM_STATUS, ProblemCode

# Wire names of events that belong to later issues (appointments, evaluations): the
# protocol reserves them before the domain has event classes for them.
RESERVED_EVENTS: set[str] = set()  # every wire type now has its domain event

# API.md "Events": the types a client may subscribe to.
API_EVENT_TYPES = {
    "ticket.issued", "ticket.called", "ticket.recalled", "ticket.started", "ticket.finished",
    "ticket.missed", "ticket.requeued", "ticket.transferred", "ticket.cancelled", "window.opened",
    "window.paused", "window.resumed", "window.closed", "appointment.booked",
    "appointment.checked_in", "evaluation.submitted",
}  # fmt: skip


def all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(all_subclasses(sub))
    return found


DOMAIN_ERRORS = [DomainError, *all_subclasses(DomainError)]
DOMAIN_EVENTS = {
    name: obj
    for name, obj in vars(domain_events).items()
    if inspect.isclass(obj) and issubclass(obj, domain_events.Event) and obj is not domain_events.Event
}


def test_the_walk_finds_every_error_class_of_the_errors_module():
    declared = {
        obj for obj in vars(domain_errors).values() if inspect.isclass(obj) and issubclass(obj, DomainError)
    }
    assert declared <= set(DOMAIN_ERRORS)
    assert len(DOMAIN_ERRORS) == len(set(DOMAIN_ERRORS))


@pytest.mark.parametrize("error", DOMAIN_ERRORS, ids=lambda e: e.__name__)
def test_every_domain_error_code_is_a_problem_code_with_the_same_status(error):
    assert error.code in {c.value for c in ProblemCode}, f"{error.__name__}.code {error.code!r}"
    assert error.status == PROBLEM_STATUS[ProblemCode(error.code)]
    assert error.title


def test_every_problem_code_has_a_status():
    assert set(PROBLEM_STATUS) == set(ProblemCode)
    assert all(400 <= s < 600 for s in PROBLEM_STATUS.values())


def test_an_instance_keeps_its_class_code_and_status():
    err = domain_errors.WindowBusy("busy")
    assert (err.code, err.status, err.detail, err.extra) == ("window_busy", 409, "busy", {})


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_every_event_type_names_a_domain_event_or_a_reserved_one(name):
    assert name in DOMAIN_EVENTS or name in RESERVED_EVENTS


def test_reserved_event_names_have_no_domain_class_yet():
    # when a later issue adds one of these classes, move it out of RESERVED_EVENTS
    assert set(EVENT_TYPES) >= RESERVED_EVENTS
    assert not RESERVED_EVENTS & set(DOMAIN_EVENTS)


def test_every_domain_event_has_a_wire_name():
    assert set(DOMAIN_EVENTS) <= set(EVENT_TYPES)


def test_event_wire_names_are_distinct_and_the_ones_api_md_lists():
    assert len(set(EVENT_TYPES.values())) == len(EVENT_TYPES)
    # API.md: "Types include ..." -- every listed type exists; more may follow.
    assert {t.value for t in EVENT_TYPES.values()} >= API_EVENT_TYPES
    assert {t.value for t in EventType} == {t.value for t in EVENT_TYPES.values()}
