"""RFC 9457 problem+json responses and the error handlers that produce them."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException

from hall_server.domain.errors import DomainError
from hall_server.protocol import ProblemCode, problem_type_uri

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: ProblemCode.MALFORMED_JSON,
    401: ProblemCode.UNAUTHENTICATED,
    403: ProblemCode.FORBIDDEN,
    404: ProblemCode.NOT_FOUND,
    405: ProblemCode.METHOD_NOT_ALLOWED,
    413: ProblemCode.PAYLOAD_TOO_LARGE,
    415: ProblemCode.UNSUPPORTED_MEDIA_TYPE,
}


def problem(status: int, code: str, title: str, detail: str, extra: dict[str, Any] | None = None) -> Response:
    """A problem+json response with a stable `code` (extension members may not shadow the standard ones)."""
    extra = extra or {}
    body: dict[str, Any] = {"type": problem_type_uri(code), "title": title, "status": status, "detail": detail,
                            "code": code}
    body.update({k: v for k, v in extra.items() if k not in body})
    resp = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/problem+json")
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="onedoor"'
    if status == 429 and "retry_after" in extra:
        resp.headers["Retry-After"] = str(extra["retry_after"])
    return resp


class ApiError(Exception):
    """An error raised by the web layer itself (bad JSON, missing token, wrong role)."""

    def __init__(self, status: int, code: str, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail, self.extra = status, code, title, detail, extra


def install_error_handlers(app: Flask) -> None:
    """Every error becomes problem+json; nothing leaks a stack trace."""

    @app.errorhandler(DomainError)
    def _domain(e: DomainError) -> Response:
        return problem(e.status, e.code, e.title, e.detail, e.extra)

    @app.errorhandler(ApiError)
    def _api(e: ApiError) -> Response:
        return problem(e.status, e.code, e.title, e.detail, e.extra)

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException) -> Response:
        status = e.code or 500
        code = _HTTP_CODES.get(status, ProblemCode.INTERNAL_ERROR if status >= 500 else ProblemCode.INVALID_REQUEST)
        detail = {
            404: "没有这个地址。No such resource.",
            405: "该地址不支持此方法。This method is not allowed here.",
            413: "请求内容过大。The request body is too large.",
        }.get(status, e.description or e.name)
        resp = problem(status, code, e.name, detail)
        if status == 405 and e.get_response().headers.get("Allow"):
            resp.headers["Allow"] = e.get_response().headers["Allow"]
        return resp

    @app.errorhandler(Exception)
    def _unexpected(e: Exception) -> Response:
        log.exception("unhandled error")
        return problem(500, ProblemCode.INTERNAL_ERROR, "Internal error",
                       "服务器内部错误，请稍后重试。Something went wrong on the server; try again.")
