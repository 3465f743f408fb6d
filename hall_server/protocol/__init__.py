"""The wire contract shared by the server, kiosks and boards (standard library only)."""

from hall_server.protocol.events import EVENT_TYPES, EventType, envelope
from hall_server.protocol.problems import PROBLEM_STATUS, ProblemCode, problem_type_uri

__all__ = ["EVENT_TYPES", "PROBLEM_STATUS", "EventType", "ProblemCode", "envelope", "problem_type_uri"]
