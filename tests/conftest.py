"""Fixtures shared by every test layer: settings, databases, a ready hall server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_HALL = ROOT / "config" / "example-hall.yaml"
SECRET = b"test-secret-key-0123456789"
POSTGRES_ENV = "ONEDOOR_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    """The PostgreSQL server the tests may use, if one is configured."""
    return os.environ.get(POSTGRES_ENV) or None


@pytest.fixture
def make_db_url(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Make a database URL for a backend: a fresh SQLite file, or a fresh PostgreSQL schema."""
    schemas: list[str] = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / f'onedoor-{uuid.uuid4().hex[:8]}.db'}"
        base = postgres_url()
        if base is None:
            pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)")
        import sqlalchemy as sa

        from hall_server.adapters.db.engine import normalize_url

        schema = f"onedoor_t_{uuid.uuid4().hex[:10]}"
        engine = sa.create_engine(normalize_url(base))
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        engine.dispose()
        schemas.append(schema)
        sep = "&" if "?" in base else "?"
        return f"{base}{sep}options=-csearch_path%3D{schema}"

    yield make
    if schemas:
        import sqlalchemy as sa

        from hall_server.adapters.db.engine import normalize_url

        engine = sa.create_engine(normalize_url(postgres_url() or ""))
        with engine.begin() as conn:
            for schema in schemas:
                conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """Each database backend in turn (PostgreSQL skipped when not configured)."""
    return str(request.param)


def make_settings(tmp_path: Path, database_url: str, **changes: Any):  # type: ignore[no-untyped-def]
    """Settings for a test server (always open, fixed secret)."""
    from hall_server.settings import Settings

    # A cheap scrypt cost keeps the many logins of the tests fast; production uses the default.
    base = Settings(data_dir=tmp_path, database_url=database_url, secret_key=SECRET, always_open=True,
                    public_url="http://hall.test", password_hash="scrypt:1024:8:1")
    return base.with_(**changes) if changes else base
