"""Applications indexed by FIN: the citizen portal looks a person's applications up by it on
every request (the unique index on FIN and service covers open applications only).

Revision ID: 0007
Revises: 0006
Created: 2026-12-06 07:16:19.176137
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_applications_fin"), ["fin"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applications_fin"))
