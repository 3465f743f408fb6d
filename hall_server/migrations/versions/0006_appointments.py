"""appointments (预约) and the places taken in each slot

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create appointments and slot_places."""
    op.create_table(
        "appointments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("hall", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=8), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=True),
        sa.Column("slot_start", sa.DateTime(), nullable=False),
        sa.Column("slot_end", sa.DateTime(), nullable=False),
        sa.Column("applicant_key", sa.String(length=64), nullable=False),
        sa.Column("applicant_masked", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ticket_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint("code", name=op.f("uq_appointments_code")),
    )
    with op.batch_alter_table("appointments") as batch:
        batch.create_index("ix_appointments_person", ["hall", "applicant_key", "slot_start"])
        batch.create_index("ix_appointments_open", ["hall", "status", "slot_end"])
    op.create_table(
        "slot_places",
        sa.Column("hall", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=8), nullable=False),
        sa.Column("slot_start", sa.DateTime(), nullable=False),
        sa.Column("taken", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hall", "category", "slot_start", name=op.f("pk_slot_places")),
    )


def downgrade() -> None:
    """Drop slot_places and appointments."""
    op.drop_table("slot_places")
    with op.batch_alter_table("appointments") as batch:
        batch.drop_index("ix_appointments_open")
        batch.drop_index("ix_appointments_person")
    op.drop_table("appointments")
