"""People and devices: password hashing, login throttling, bearer tokens (stored hashed)."""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from hall_server.adapters.db import tables as tb
from hall_server.adapters.db.engine import Database
from hall_server.domain.actors import DEVICE_ROLES, PERSON_ROLES, Actor, Role
from hall_server.domain.errors import BadCredentials, InvalidInput, NotFound, TooManyAttempts

log = logging.getLogger(__name__)


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256: they are long random strings, so no salt is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LoginPolicy:
    """Throttling of failed logins."""

    max_failures_per_user: int = 5
    max_failures_per_address: int = 20
    window_s: int = 900
    token_ttl_s: int = 12 * 3600
    password_method: str = "scrypt"  # noqa: S105 - a hash method name, not a password


class AuthService:
    """Users, devices and tokens in the database."""

    CACHE_TTL_S = 5.0

    def __init__(self, db: Database, now: Callable[[], datetime], policy: LoginPolicy | None = None) -> None:
        self._db = db
        self._now = now
        self.policy = policy or LoginPolicy()
        self._cache: dict[str, tuple[float, Actor | None]] = {}
        self._cache_lock = threading.Lock()
        # A hash to compare against when the user does not exist, so that the answer takes
        # as long for an unknown name as for a wrong password (no user enumeration by timing).
        self._dummy_hash = generate_password_hash(secrets.token_hex(8), method=self.policy.password_method)

    # ---------------------------------------------------------------- people

    def add_user(self, username: str, password: str, role: str, hall: str | None = None,
                 window: int | None = None) -> dict[str, Any]:
        """Create a person; the password is stored as a salted scrypt hash."""
        username = username.strip()
        if not username or len(username) > 64 or any(ch.isspace() for ch in username):
            raise InvalidInput("用户名不能为空、不能含空格，最长64个字符。A user name has 1-64 characters, no spaces.")
        try:
            r = Role(role)
        except ValueError:
            raise InvalidInput(f"未知的角色 {role!r}。Roles: admin, manager, staff.")
        if r not in PERSON_ROLES:
            raise InvalidInput("设备请使用 `onedoor device add`。Devices are added with `onedoor device add`.")
        if r is not Role.ADMIN and not hall:
            raise InvalidInput("管理员以外的角色必须指定大厅。Managers and staff need --hall.")
        if len(password) < 8:
            raise InvalidInput("密码至少8个字符。The password needs at least 8 characters.")
        if window is not None and not 1 <= window <= 9999:
            raise InvalidInput("窗口号应在1到9999之间。A window number is 1..9999.")
        with self._db.writer_lock(), self._db.write.begin() as conn:
            if hall and conn.execute(select(tb.halls.c.code).where(tb.halls.c.code == hall)).first() is None:
                raise NotFound(f"没有编号为 {hall} 的大厅。No hall '{hall}'.")
            if window is not None and conn.execute(
                select(tb.windows.c.number).where(tb.windows.c.hall == hall, tb.windows.c.number == window)
            ).first() is None:
                raise NotFound(f"大厅 {hall} 没有{window}号窗口。Hall '{hall}' has no window {window}.")
            try:
                conn.execute(
                    insert(tb.users).values(
                        username=username, password_hash=generate_password_hash(password, method=self.policy.password_method),
                        role=r.value, hall=hall if r is not Role.ADMIN else None,
                        window=window if r is Role.STAFF else None, active=True, created_at=self._now(),
                    )
                )
            except IntegrityError:
                raise InvalidInput(f"用户 {username} 已存在。User '{username}' exists already.")
        return {"username": username, "role": r.value, "hall": hall, "window": window}

    def set_password(self, username: str, password: str) -> None:
        """Replace a person's password and revoke their tokens."""
        if len(password) < 8:
            raise InvalidInput("密码至少8个字符。The password needs at least 8 characters.")
        with self._db.writer_lock(), self._db.write.begin() as conn:
            res = conn.execute(
                update(tb.users).where(tb.users.c.username == username)
                .values(password_hash=generate_password_hash(password, method=self.policy.password_method))
            )
            if res.rowcount != 1:
                raise NotFound(f"没有用户 {username}。No user '{username}'.")
            uid = conn.execute(select(tb.users.c.id).where(tb.users.c.username == username)).scalar_one()
            conn.execute(update(tb.auth_tokens).where(tb.auth_tokens.c.user_id == uid).values(revoked_at=self._now()))
        self._clear_cache()

    def login(self, username: str, password: str, remote_addr: str) -> tuple[str, dict[str, Any]]:
        """Check a password and issue a token; throttled after repeated failures."""
        now = self._now()
        since = now - timedelta(seconds=self.policy.window_s)
        f = tb.login_failures.c
        with self._db.read.connect() as conn:
            by_user = conn.execute(
                select(func.count()).select_from(tb.login_failures).where(f.username == username, f.at >= since)
            ).scalar_one()
            by_addr = conn.execute(
                select(func.count()).select_from(tb.login_failures).where(f.remote_addr == remote_addr, f.at >= since)
            ).scalar_one()
            user = conn.execute(select(tb.users).where(tb.users.c.username == username)).first()
        if by_user >= self.policy.max_failures_per_user or by_addr >= self.policy.max_failures_per_address:
            raise TooManyAttempts(
                "登录失败次数过多，请15分钟后再试。Too many failed logins: try again in 15 minutes.",
                extra={"retry_after": self.policy.window_s},
            )
        ok = check_password_hash(user.password_hash if user else self._dummy_hash, password)
        if not ok or user is None or not user.active:
            with self._db.writer_lock(), self._db.write.begin() as conn:
                conn.execute(insert(tb.login_failures).values(username=username[:64], remote_addr=remote_addr[:64], at=now))
                # Failures older than the throttling window no longer count: keep the table small.
                conn.execute(delete(tb.login_failures).where(f.at < since))
            log.info("failed login for a user name from %s", remote_addr)
            raise BadCredentials("用户名或密码错误。Wrong user name or password.")
        token = secrets.token_urlsafe(32)
        with self._db.writer_lock(), self._db.write.begin() as conn:
            conn.execute(delete(tb.login_failures).where(f.username == username))
            conn.execute(
                insert(tb.auth_tokens).values(
                    id=str(uuid.uuid4()), token_hash=hash_token(token), user_id=user.id, created_at=now,
                    expires_at=now + timedelta(seconds=self.policy.token_ttl_s),
                )
            )
        return token, {"username": user.username, "role": user.role, "hall": user.hall, "window": user.window}

    def logout(self, token: str) -> None:
        """Revoke a person's token."""
        h = hash_token(token)
        with self._db.writer_lock(), self._db.write.begin() as conn:
            conn.execute(update(tb.auth_tokens).where(tb.auth_tokens.c.token_hash == h).values(revoked_at=self._now()))
        with self._cache_lock:
            self._cache.pop(h, None)

    # ---------------------------------------------------------------- devices

    def add_device(self, hall: str, kind: str, name: str | None = None) -> tuple[str, str]:
        """Register a kiosk, board or evaluator; return (device id, token). The token is shown once."""
        try:
            role = Role(kind)
        except ValueError:
            role = None
        if role not in DEVICE_ROLES:
            raise InvalidInput("设备类型应为 kiosk、board 或 evaluator。kind must be kiosk, board or evaluator.")
        device_id = str(uuid.uuid4())
        token = secrets.token_urlsafe(32)
        now = self._now()
        with self._db.writer_lock(), self._db.write.begin() as conn:
            if conn.execute(select(tb.halls.c.code).where(tb.halls.c.code == hall)).first() is None:
                raise NotFound(f"没有编号为 {hall} 的大厅。No hall '{hall}'.")
            conn.execute(insert(tb.devices).values(id=device_id, hall=hall, kind=role.value,
                                                   name=(name or f"{role.value}-{device_id[:8]}")[:100],
                                                   created_at=now))
            conn.execute(insert(tb.auth_tokens).values(id=str(uuid.uuid4()), token_hash=hash_token(token),
                                                       device_id=device_id, created_at=now))
        return device_id, token

    def revoke_device(self, device_id: str) -> None:
        """Revoke a device and every token it holds."""
        now = self._now()
        with self._db.writer_lock(), self._db.write.begin() as conn:
            res = conn.execute(update(tb.devices).where(tb.devices.c.id == device_id).values(revoked_at=now))
            if res.rowcount != 1:
                raise NotFound(f"没有设备 {device_id}。No device '{device_id}'.")
            conn.execute(update(tb.auth_tokens).where(tb.auth_tokens.c.device_id == device_id).values(revoked_at=now))
        self._clear_cache()

    def devices(self, hall: str | None = None) -> list[dict[str, Any]]:
        """Registered devices."""
        d = tb.devices.c
        q = select(tb.devices).order_by(d.hall, d.kind, d.name)
        if hall:
            q = q.where(d.hall == hall)
        with self._db.read.connect() as conn:
            rows = conn.execute(q).all()
        return [{"id": r.id, "hall": r.hall, "kind": r.kind, "name": r.name,
                 "revoked": r.revoked_at is not None} for r in rows]

    # ---------------------------------------------------------------- tokens

    def _clear_cache(self) -> None:
        with self._cache_lock:
            self._cache.clear()

    def authenticate(self, token: str) -> Actor | None:
        """The actor behind a bearer token, or None (unknown, expired or revoked).

        Lookups are cached for a few seconds: a token revoked by another process stops
        working within CACHE_TTL_S.
        """
        if not token or len(token) > 200:
            return None
        h = hash_token(token)
        mono = time.monotonic()
        with self._cache_lock:
            hit = self._cache.get(h)
        if hit is not None and mono - hit[0] < self.CACHE_TTL_S:
            actor = hit[1]
        else:
            actor = self._lookup(h)
            with self._cache_lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[h] = (mono, actor)
        return actor

    def _lookup(self, h: str) -> Actor | None:
        a, u, d = tb.auth_tokens.c, tb.users.c, tb.devices.c
        now = self._now()
        with self._db.read.connect() as conn:
            row = conn.execute(
                select(a.id, a.expires_at, a.user_id, a.device_id, u.username, u.role, u.hall, u.window, u.active,
                       d.hall.label("device_hall"), d.kind, d.name.label("device_name"), d.revoked_at.label("device_revoked"))
                .select_from(tb.auth_tokens.outerjoin(tb.users, u.id == a.user_id)
                             .outerjoin(tb.devices, d.id == a.device_id))
                .where(and_(a.token_hash == h, a.revoked_at.is_(None)),
                       or_(a.expires_at.is_(None), a.expires_at > now))
            ).first()
        if row is None:
            return None
        if row.user_id is not None:
            if not row.active:
                return None
            return Actor(name=row.username, role=Role(row.role), hall=row.hall, window=row.window, token_id=row.id)
        if row.device_id is None or row.device_revoked is not None:
            return None
        return Actor(name=f"device:{row.device_name}", role=Role(row.kind), hall=row.device_hall, token_id=row.id)
