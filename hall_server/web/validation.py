"""Small, strict request parsing: clear 4xx problems instead of crashes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import g, request

from hall_server.protocol import ProblemCode
from hall_server.web.problems import ApiError


def invalid(detail: str, **extra: Any) -> ApiError:
    """A 422 invalid_request error."""
    return ApiError(422, ProblemCode.INVALID_REQUEST, "Invalid request", detail, **extra)


def json_body(*, allow_empty: bool = True) -> dict[str, Any]:
    """The request's JSON object (an absent body counts as `{}` when allowed)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if allow_empty:
            return {}
        raise invalid("请求需要 JSON 内容。A JSON body is required.")
    if not request.is_json:
        raise ApiError(415, ProblemCode.UNSUPPORTED_MEDIA_TYPE, "Unsupported media type",
                       "请使用 Content-Type: application/json。Send JSON with Content-Type: application/json.")
    try:
        body = json.loads(raw)
        # Canonical form, made once: it proves every string is valid Unicode (JSON allows
        # lone surrogate escapes such as "\ud800", which no database column can store) and
        # it is what the Idempotency-Key fingerprint hashes.
        canonical = json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeError, RecursionError):
        raise ApiError(400, ProblemCode.MALFORMED_JSON, "Malformed JSON",
                       "请求内容不是合法的 JSON。The body is not valid JSON (or not valid Unicode).")
    if not isinstance(body, dict):
        raise invalid("请求内容应为 JSON 对象。The body must be a JSON object.")
    g.body_fingerprint = hashlib.sha256(canonical).hexdigest()
    return body


def fingerprint() -> str:
    """A stable hash of the request's JSON body (for Idempotency-Key replays); after json_body()."""
    return str(g.body_fingerprint)


class Fields:
    """Typed access to a JSON object's fields, refusing unknown ones."""

    def __init__(self, body: dict[str, Any], allowed: set[str], where: str = "body") -> None:
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise invalid(f"未知字段：{', '.join(unknown)}。Unknown field(s) in {where}: {', '.join(unknown)}.",
                          fields=unknown)
        self._body = body
        self._where = where

    def string(self, name: str, *, required: bool = False, max_len: int = 200,
               choices: tuple[str, ...] | None = None) -> str | None:
        """A string field (None when absent or null and not required)."""
        v = self._body.get(name)
        if v is None:
            if required:
                raise invalid(f"缺少字段 {name}。Field '{name}' is required.", field=name)
            return None
        if not isinstance(v, str):
            raise invalid(f"字段 {name} 应为字符串。Field '{name}' must be a string.", field=name)
        if not v.strip() or len(v) > max_len:
            raise invalid(f"字段 {name} 不能为空且不超过{max_len}个字符。Field '{name}' must have 1-{max_len} characters.",
                          field=name)
        if choices is not None and v not in choices:
            raise invalid(f"字段 {name} 应为 {', '.join(choices)} 之一。Field '{name}' must be one of: {', '.join(choices)}.",
                          field=name)
        return v

    def integer(self, name: str, *, required: bool = False, lo: int = 1, hi: int = 9999) -> int | None:
        """An integer field (booleans refused)."""
        v = self._body.get(name)
        if v is None:
            if required:
                raise invalid(f"缺少字段 {name}。Field '{name}' is required.", field=name)
            return None
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise invalid(f"字段 {name} 应为 {lo}..{hi} 的整数。Field '{name}' must be an integer {lo}..{hi}.",
                          field=name)
        return v

    def array(self, name: str, *, required: bool = False, max_items: int = 5000) -> list[Any]:
        """A JSON array field."""
        v = self._body.get(name)
        if v is None:
            if required:
                raise invalid(f"缺少字段 {name}。Field '{name}' is required.", field=name)
            return []
        if not isinstance(v, list) or len(v) > max_items:
            raise invalid(f"字段 {name} 应为不超过{max_items}项的数组。Field '{name}' must be an array of at most "
                          f"{max_items} entries.", field=name)
        return v

    def obj(self, name: str) -> dict[str, Any] | None:
        """A nested object field."""
        v = self._body.get(name)
        if v is None:
            return None
        if not isinstance(v, dict):
            raise invalid(f"字段 {name} 应为对象。Field '{name}' must be an object.", field=name)
        return v


def query_int(name: str, default: int, lo: int, hi: int) -> int:
    """An integer query parameter within bounds."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        v = int(raw)
    except ValueError:
        raise invalid(f"参数 {name} 应为整数。Query parameter '{name}' must be an integer.", field=name)
    if not lo <= v <= hi:
        raise invalid(f"参数 {name} 应在 {lo}..{hi} 之间。Query parameter '{name}' must be {lo}..{hi}.", field=name)
    return v
