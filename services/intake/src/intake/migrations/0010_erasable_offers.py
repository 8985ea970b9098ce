"""A person reached only by a proactive offer can be erased (issue 21): the life event and the
offer lose the FIN, and the life event the person (but for the district and the language), the
registry's reference, the day and the facts; the life event records when.

Revision ID: 0010
Revises: 0009
Created: 2026-12-07 00:41:53.481963
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("life_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column("fin", existing_type=sa.VARCHAR(), nullable=True)
        batch_op.alter_column("reference", existing_type=sa.VARCHAR(), nullable=True)
        batch_op.alter_column("occurred_on", existing_type=sa.DATE(), nullable=True)

    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.alter_column("fin", existing_type=sa.VARCHAR(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.alter_column("fin", existing_type=sa.VARCHAR(), nullable=False)

    with op.batch_alter_table("life_events", schema=None) as batch_op:
        batch_op.alter_column("occurred_on", existing_type=sa.DATE(), nullable=False)
        batch_op.alter_column("reference", existing_type=sa.VARCHAR(), nullable=False)
        batch_op.alter_column("fin", existing_type=sa.VARCHAR(), nullable=False)
        batch_op.drop_column("erased_at")
