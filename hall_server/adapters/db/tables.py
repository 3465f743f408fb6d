"""Tables (SQLAlchemy Core). Alembic migrations in hall_server/migrations mirror these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; stored as naive UTC on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to naive UTC for storage."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Attach UTC to what the database returns."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

halls = Table(
    "halls",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("level", String(16), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("config", JSON, nullable=False),
    Column("config_version", Integer, nullable=False, default=1),
    Column("updated_at", UTCDateTime, nullable=False),
)

hall_sequences = Table(
    "hall_sequences",
    metadata,
    Column("hall", String(32), primary_key=True),
    Column("last_seq", Integer, nullable=False, default=0),
)

windows = Table(
    "windows",
    metadata,
    Column("hall", String(32), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("categories", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("pause_reason", String(200)),
    Column("staff", String(64)),
    Column("current_ticket", String(36)),
    Column("status_since", UTCDateTime),
    Column("version", Integer, nullable=False, default=0),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("hall", String(32), nullable=False),
    Column("number", String(16), nullable=False),
    Column("business_date", String(10), nullable=False),
    Column("seq", Integer, nullable=False, server_default="0"),  # daily sequence of `number` (0002)
    Column("category", String(8), nullable=False),
    # 0 checked-in appointment, 1 priority group, 2 normal: dispatch's lanes (0003)
    Column("lane", Integer, nullable=False, server_default="2"),
    Column("item", String(64)),
    Column("bundle", String(64)),  # 0010: a 一件事 bundle instead of one item
    Column("channel", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("priority_group", String(16)),
    Column("priority_reason", String(200)),  # 0007: the grant's reason and who granted it (audit)
    Column("priority_granted_by", String(64)),
    Column("appointment", Boolean, nullable=False, default=False),
    Column("applicant_key", String(64)),
    Column("applicant_masked", String(32)),
    Column("matter_id", String(36)),  # 0009: the matter and which trip of it this visit is
    Column("trip", Integer),
    Column("window", Integer),
    Column("target_window", Integer),
    Column("issued_at", UTCDateTime, nullable=False),
    Column("order_at", UTCDateTime, nullable=False),
    Column("called_at", UTCDateTime),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("outcome", String(32)),
    Column("recall_count", Integer, nullable=False, default=0),
    Column("transfer_count", Integer, nullable=False, default=0),
    Column("token", String(32), nullable=False, unique=True),
    Column("version", Integer, nullable=False, default=0),
    # A number is never reused within a hall's day.
    UniqueConstraint("hall", "business_date", "number", name="uq_tickets_hall_day_number"),
    Index("ix_tickets_queue", "hall", "status", "category", "order_at"),
    # Lane heads (call-next) and queue counts (positions) are read from this index alone.
    Index("ix_tickets_waiting_lane", "hall", "status", "category", "lane", "target_window", "order_at", "seq"),
    Index("ix_tickets_applicant", "hall", "applicant_key", "business_date"),
    Index("ix_tickets_called", "hall", "category", "called_at"),
    Index("ix_tickets_finished", "hall", "category", "status", "finished_at"),
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("hall", String(32), nullable=False),
    Column("ticket_id", String(36), nullable=False, unique=True),  # one evaluation per ticket
    Column("level", Integer, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    Column("window", Integer),
    Column("staff", String(64)),
    Column("submitted_at", UTCDateTime, nullable=False),
    Column("rectification", String(16)),
    Column("rectification_due", String(10)),
    Column("rectification_note", Text),
    Column("closed_by", String(64)),
    Column("closed_at", UTCDateTime),
    Column("version", Integer, nullable=False, server_default="0"),
    Index("ix_evaluations_rectification", "hall", "rectification", "rectification_due"),
)

appointments = Table(
    "appointments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("hall", String(32), nullable=False),
    Column("category", String(8), nullable=False),
    Column("item", String(64)),
    Column("slot_start", UTCDateTime, nullable=False),
    Column("slot_end", UTCDateTime, nullable=False),
    Column("applicant_key", String(64), nullable=False),
    Column("applicant_masked", String(32), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("code", String(40), nullable=False, unique=True),
    Column("status", String(16), nullable=False),
    Column("ticket_id", String(36)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("checked_in_at", UTCDateTime),
    Column("version", Integer, nullable=False, server_default="0"),
    Index("ix_appointments_person", "hall", "applicant_key", "slot_start"),
    Index("ix_appointments_open", "hall", "status", "slot_end"),
)

slot_places = Table(
    "slot_places",
    metadata,
    Column("hall", String(32), primary_key=True),
    Column("category", String(8), primary_key=True),
    Column("slot_start", UTCDateTime, primary_key=True),
    Column("taken", Integer, nullable=False),
)

applicants = Table(
    "applicants",
    metadata,
    Column("key", String(64), primary_key=True),  # HMAC-SHA256 of the number with the server secret
    Column("id_type", String(16), nullable=False),
    Column("sealed", Text, nullable=False),  # AES-GCM, opened only for an audited reveal
    Column("masked", String(32), nullable=False),
    Column("name_sealed", Text),  # 0011: the name as read from the card, sealed, and masked (张*)
    Column("name_masked", String(32)),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("hall", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(100), nullable=False),
    Column("detail", String(200), nullable=False),
    Index("ix_audit_log_hall_at", "hall", "at"),
)

matters = Table(
    "matters",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("hall", String(32), nullable=False),
    Column("applicant_key", String(64), nullable=False),
    Column("subject", String(80), nullable=False),
    Column("status", String(16), nullable=False),
    Column("trips", Integer, nullable=False),
    Column("last_visit", String(10), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("version", Integer, nullable=False, server_default="0"),
    Index("ix_matters_person", "hall", "applicant_key", "subject", "status"),
    Index("ix_matters_trips", "hall", "status", "trips"),
)

ticket_counters = Table(
    "ticket_counters",
    metadata,
    Column("hall", String(32), primary_key=True),
    Column("prefix", String(8), primary_key=True),
    Column("business_date", String(10), primary_key=True),
    Column("last_seq", Integer, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("hall", String(32), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("type", String(64), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("data", JSON, nullable=False),
    UniqueConstraint("hall", "seq", name="uq_events_hall_seq"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("hall", String(32), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Index("ix_outbox_pending", "status", "hall", "seq"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(64), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(256), nullable=False),
    Column("role", String(16), nullable=False),
    Column("hall", String(32)),
    Column("window", Integer),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
)

devices = Table(
    "devices",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("hall", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("name", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

auth_tokens = Table(
    "auth_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Integer),
    Column("device_id", String(36)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("remote_addr", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_login_failures_user", "username", "at"),
    Index("ix_login_failures_addr", "remote_addr", "at"),
)
