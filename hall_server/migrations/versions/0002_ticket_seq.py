"""tickets.seq: the daily sequence as a number, dispatch's tie-break after order_at

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add tickets.seq and fill it from the ticket numbers (prefix letters + digits)."""
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=False, server_default="0"))
    conn = op.get_bind()
    tickets = sa.table("tickets", sa.column("id", sa.String), sa.column("number", sa.String),
                       sa.column("seq", sa.Integer))
    for row in conn.execute(sa.select(tickets.c.id, tickets.c.number)).all():
        digits = row.number.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        conn.execute(tickets.update().where(tickets.c.id == row.id).values(seq=int(digits or 0)))


def downgrade() -> None:
    """Drop tickets.seq."""
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("seq")
