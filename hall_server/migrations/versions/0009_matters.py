"""matters (最多跑一次): trips per person and matter; tickets know their matter and trip

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 16:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create matters; add tickets.matter_id and tickets.trip."""
    op.create_table(
        "matters",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("hall", sa.String(length=32), nullable=False),
        sa.Column("applicant_key", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trips", sa.Integer(), nullable=False),
        sa.Column("last_visit", sa.String(length=10), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matters")),
    )
    with op.batch_alter_table("matters") as batch:
        batch.create_index("ix_matters_person", ["hall", "applicant_key", "subject", "status"])
        batch.create_index("ix_matters_trips", ["hall", "status", "trips"])
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("matter_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("trip", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("trip")
        batch.drop_column("matter_id")
    with op.batch_alter_table("matters") as batch:
        batch.drop_index("ix_matters_trips")
        batch.drop_index("ix_matters_person")
    op.drop_table("matters")
