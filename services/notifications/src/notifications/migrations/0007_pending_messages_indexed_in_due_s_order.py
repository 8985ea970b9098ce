"""Pending messages indexed in due()'s order

due() takes the oldest due messages by (next_attempt_at, id); with both in the index PostgreSQL
walks it in that order and stops once a batch is found, where the index of next_attempt_at alone
left it sorting every due message first (a backlog made every call dearer).

Revision ID: 0007
Revises: 0006
Created: 2026-12-06 15:30:40.311032
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")
NAME = "ix_notifications_pending_due"


def upgrade() -> None:
    _index_due(["next_attempt_at", "id"])


def downgrade() -> None:
    _index_due(["next_attempt_at"])


def _index_due(columns: list[str]) -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(NAME)
        batch_op.create_index(
            NAME, columns, unique=False, postgresql_where=PENDING, sqlite_where=PENDING
        )
