"""Bearer tokens on requests: who is calling, and may they."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app, g, request

from hall_server.domain.actors import DEVICE_ROLES, PERSON_ROLES, Actor, Role
from hall_server.protocol import ProblemCode
from hall_server.web.problems import ApiError

if TYPE_CHECKING:
    from hall_server.bootstrap import Container

STAFF_UP = (Role.ADMIN, Role.MANAGER, Role.STAFF)
ANY_ROLE = (*PERSON_ROLES, *DEVICE_ROLES)  # every role a bearer token can carry


def container() -> Container:
    """The process's container (set by create_app)."""
    return current_app.extensions["onedoor"]


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer ...` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_actor() -> Actor | None:
    """The authenticated caller, or None."""
    if "actor" not in g:
        token = bearer_token()
        g.actor = container().auth.authenticate(token) if token else None
    return g.actor


def require(roles: tuple[Role, ...], hall: str | None = None) -> Actor:
    """The caller, who must hold one of `roles` (and see `hall`); 401/403 otherwise."""
    actor = current_actor()
    if actor is None:
        raise ApiError(401, ProblemCode.UNAUTHENTICATED, "Authentication required",
                       "请先登录或提供有效的令牌。Send a valid bearer token.")
    if actor.role not in roles:
        raise ApiError(403, ProblemCode.FORBIDDEN, "Forbidden",
                       f"角色 {actor.role.value} 无权执行此操作。The role '{actor.role.value}' may not do this.")
    if hall is not None and not actor.sees_hall(hall):
        raise ApiError(403, ProblemCode.FORBIDDEN, "Forbidden",
                       f"无权访问大厅 {hall}。This token is not valid for hall '{hall}'.")
    return actor
