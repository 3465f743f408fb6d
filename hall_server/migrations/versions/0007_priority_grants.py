"""tickets.priority_reason and priority_granted_by: every 绿色通道 grant is recorded

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the grant's reason and grantor to tickets."""
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("priority_reason", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("priority_granted_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("priority_granted_by")
        batch.drop_column("priority_reason")
