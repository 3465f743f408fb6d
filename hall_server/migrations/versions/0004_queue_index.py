"""queue index with target_window: lane heads and queue counts read the index alone

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Replace ix_tickets_lane by an index that also covers target_window."""
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_lane")
        batch.create_index("ix_tickets_waiting_lane",
                           ["hall", "status", "category", "lane", "target_window", "order_at", "seq"])


def downgrade() -> None:
    """Back to ix_tickets_lane."""
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_waiting_lane")
        batch.create_index("ix_tickets_lane", ["hall", "status", "category", "lane", "order_at", "seq"])
