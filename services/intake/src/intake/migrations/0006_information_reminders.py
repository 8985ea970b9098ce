"""When a person waiting to send the facts a needs-information decision asked for was reminded
(empty on rows from before). The new status `expired` needs no change: statuses are text.

Revision ID: 0006
Revises: 0005
Created: 2026-12-06 07:15:16.404437
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("information_reminded_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("information_reminded_at")
