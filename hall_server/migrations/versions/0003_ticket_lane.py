"""tickets.lane and a queue index by lane: call-next reads three index heads per category

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 14:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add tickets.lane (0 appointment, 1 priority group, 2 normal), fill it, index the queue by it."""
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("lane", sa.Integer(), nullable=False, server_default="2"))
    tickets = sa.table("tickets", sa.column("lane", sa.Integer), sa.column("appointment", sa.Boolean),
                       sa.column("priority_group", sa.String))
    op.execute(tickets.update().where(tickets.c.priority_group.is_not(None)).values(lane=1))
    op.execute(tickets.update().where(tickets.c.appointment.is_(True)).values(lane=0))
    with op.batch_alter_table("tickets") as batch:
        batch.create_index("ix_tickets_lane", ["hall", "status", "category", "lane", "order_at", "seq"])


def downgrade() -> None:
    """Drop the index and the column."""
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_lane")
        batch.drop_column("lane")
