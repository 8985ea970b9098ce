"""Inbox claims by time, for retention

Revision ID: 0002
Revises: 0001
Created: 2026-12-06 06:36:34.898516
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inbox_processed_at", ["processed_at"], unique=False, postgresql_using="brin"
        )


def downgrade() -> None:
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_processed_at", postgresql_using="brin")
