"""applicants (keyed hash, sealed number, masked form) and the audit log

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 16:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create applicants and audit_log."""
    op.create_table(
        "applicants",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("id_type", sa.String(length=16), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("masked", sa.String(length=32), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_applicants")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("hall", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log") as batch:
        batch.create_index("ix_audit_log_hall_at", ["hall", "at"])


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_index("ix_audit_log_hall_at")
    op.drop_table("audit_log")
    op.drop_table("applicants")
