"""When each message was delivered (staff see it in GET /applications/{id}/messages).

A message delivered before this revision gets the time it was sent: the delivery time itself for
a channel that answers at once, the gateway's taking it for one that reports by receipt.

Revision ID: 0006
Revises: 0005
Created: 2026-12-06 09:31:41.056168
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE notifications SET delivered_at = sent_at WHERE status = 'sent'")


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("delivered_at")
