"""Who did what: who submitted an application, who last added facts, and the actor of each
journey step, as `<role>:<name>` (empty on rows from before).

Revision ID: 0005
Revises: 0004
Created: 2026-12-06 07:00:15.693114
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submitted_by", sa.String(length=78), nullable=True))
        batch_op.add_column(sa.Column("facts_added_by", sa.String(length=78), nullable=True))

    with op.batch_alter_table("journey", schema=None) as batch_op:
        batch_op.add_column(sa.Column("actor", sa.String(length=78), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("journey", schema=None) as batch_op:
        batch_op.drop_column("actor")

    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("facts_added_by")
        batch_op.drop_column("submitted_by")
