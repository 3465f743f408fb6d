"""evaluations (好差评): one per served ticket, with the rectification case of a bad one

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the evaluations table."""
    op.create_table(
        "evaluations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("hall", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.String(length=36), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), server_default="", nullable=False),
        sa.Column("window", sa.Integer(), nullable=True),
        sa.Column("staff", sa.String(length=64), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("rectification", sa.String(length=16), nullable=True),
        sa.Column("rectification_due", sa.String(length=10), nullable=True),
        sa.Column("rectification_note", sa.Text(), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_evaluations_ticket_id")),
    )
    with op.batch_alter_table("evaluations") as batch:
        batch.create_index("ix_evaluations_rectification", ["hall", "rectification", "rectification_due"])


def downgrade() -> None:
    """Drop the evaluations table."""
    with op.batch_alter_table("evaluations") as batch:
        batch.drop_index("ix_evaluations_rectification")
    op.drop_table("evaluations")
