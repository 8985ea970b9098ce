"""The pre-screen of an erased person's life event keeps neither the registry's reference nor the
day (issue 21): both may be blanked.

Revision ID: 0008
Revises: 0007
Created: 2026-12-07 01:12:10.420618
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("prescreens", schema=None) as batch_op:
        batch_op.alter_column("reference", existing_type=sa.VARCHAR(), nullable=True)
        batch_op.alter_column("occurred_on", existing_type=sa.DATE(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("prescreens", schema=None) as batch_op:
        batch_op.alter_column("occurred_on", existing_type=sa.DATE(), nullable=False)
        batch_op.alter_column("reference", existing_type=sa.VARCHAR(), nullable=False)
