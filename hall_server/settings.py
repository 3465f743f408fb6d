"""Machine settings: ONEDOOR_* environment variables, validated once into a frozen dataclass."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path


class SettingsError(ValueError):
    """An ONEDOOR_* variable has a value we cannot use."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    v = raw.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise SettingsError(f"{name}={raw!r}: expected 1/0, true/false, yes/no or on/off")


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        v = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a whole number")
    if not lo <= v <= hi:
        raise SettingsError(f"{name}={v}: expected {lo}..{hi}")
    return v


@dataclass(frozen=True)
class Settings:
    """Everything the server needs from its machine."""

    data_dir: Path
    database_url: str
    secret_key: bytes
    always_open: bool = False
    public_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    threads: int = 64
    workers: int = 1
    message_queue: str | None = None
    token_ttl_s: int = 12 * 3600
    log_level: str = "INFO"
    password_hash: str = "scrypt"  # noqa: S105 - a hash method name, not a password

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate ONEDOOR_* variables."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("ONEDOOR_DATA_DIR") or "./var").resolve()
        db_url = env.get("ONEDOOR_DATABASE_URL") or f"sqlite:///{data_dir / 'onedoor.db'}"
        secret = env.get("ONEDOOR_SECRET_KEY")
        secret_bytes = secret.encode() if secret else load_or_create_secret(data_dir)
        if len(secret_bytes) < 16:
            raise SettingsError("ONEDOOR_SECRET_KEY: at least 16 characters")
        return cls(
            data_dir=data_dir,
            database_url=db_url,
            secret_key=secret_bytes,
            always_open=_bool(env, "ONEDOOR_ALWAYS_OPEN", False),
            public_url=(env.get("ONEDOOR_PUBLIC_URL") or None),
            host=env.get("ONEDOOR_HOST") or "127.0.0.1",
            port=_int(env, "ONEDOOR_PORT", 8080, 1, 65535),
            threads=_int(env, "ONEDOOR_THREADS", 64, 1, 1024),
            workers=_int(env, "ONEDOOR_WORKERS", 1, 1, 64),
            message_queue=(env.get("ONEDOOR_MESSAGE_QUEUE") or None),
            token_ttl_s=_int(env, "ONEDOOR_TOKEN_TTL_S", 12 * 3600, 60, 30 * 86400),
            log_level=(env.get("ONEDOOR_LOG_LEVEL") or "INFO").upper(),
            password_hash=_password_method(env.get("ONEDOOR_PASSWORD_HASH") or "scrypt"),
        )

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def status_url_base(self) -> str:
        """Where visitors' phones reach the server (the ticket QR code points here)."""
        return self.public_url or f"http://{self.host}:{self.port}"


def _password_method(value: str) -> str:
    """A werkzeug password-hash method: `scrypt` or `scrypt:N:R:P`, or `pbkdf2[:sha256[:ITER]]`."""
    name = value.split(":", 1)[0]
    if name not in ("scrypt", "pbkdf2") or not all(p.isalnum() for p in value.split(":")):
        raise SettingsError(f"ONEDOOR_PASSWORD_HASH={value!r}: expected scrypt[:N:R:P] or pbkdf2[:sha256[:ITER]]")
    return value


def load_or_create_secret(data_dir: Path) -> bytes:
    """The server secret (HMAC of applicant ids), kept in the data directory, made once."""
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as f:
        f.write(value)
    return value
