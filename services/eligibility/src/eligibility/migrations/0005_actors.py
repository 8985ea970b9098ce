"""Who did what: the administrator who activated a rule set, as `<role>:<name>` (empty on rows
from before).

Revision ID: 0005
Revises: 0004
Created: 2026-12-06 07:00:19.834151
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rule_sets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("activated_by", sa.String(length=78), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rule_sets", schema=None) as batch_op:
        batch_op.drop_column("activated_by")
