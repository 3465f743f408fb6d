"""tickets.bundle: a ticket for a 一件事 bundle of items

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 16:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add tickets.bundle."""
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("bundle", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Drop tickets.bundle."""
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("bundle")
