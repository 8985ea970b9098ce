"""Who did what: who last changed a provider and who made a placement's last transition, as
`<role>:<name>` (empty on rows from before, and where the service itself acted).

Revision ID: 0004
Revises: 0003
Created: 2026-12-06 07:00:17.779607
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("changed_by", sa.String(length=78), nullable=True))

    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("changed_by", sa.String(length=78), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.drop_column("changed_by")

    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.drop_column("changed_by")
