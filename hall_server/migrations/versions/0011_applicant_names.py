"""applicants.name_sealed and name_masked: names kept like numbers (sealed, and 张* on screen)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the sealed and masked name."""
    with op.batch_alter_table("applicants") as batch:
        batch.add_column(sa.Column("name_sealed", sa.Text(), nullable=True))
        batch.add_column(sa.Column("name_masked", sa.String(length=32), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("applicants") as batch:
        batch.drop_column("name_masked")
        batch.drop_column("name_sealed")
