"""Pre-screens of life events from the state registries (issue 21): one row per registry record,
with no identity (the district, the kind, the outcome), so a record sent again is screened once
and the ministry can count what proactive outreach reached.

Revision ID: 0007
Revises: 0006
Created: 2026-12-06 22:20:45.211402
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "prescreens",
        sa.Column("life_event_id", sa.Uuid(), nullable=False),
        sa.Column("reported_by", sa.String(), nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("district", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("rule_set_version", sa.String(), nullable=False),
        sa.Column("provision_types", sa.JSON(), nullable=False),
        sa.Column("screened_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("life_event_id"),
        sa.UniqueConstraint("reported_by", "reference", name="ux_prescreens_reference"),
    )
    with op.batch_alter_table("prescreens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_prescreens_district"), ["district"], unique=False)
        batch_op.create_index(batch_op.f("ix_prescreens_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_prescreens_outcome"), ["outcome"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("prescreens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prescreens_outcome"))
        batch_op.drop_index(batch_op.f("ix_prescreens_kind"))
        batch_op.drop_index(batch_op.f("ix_prescreens_district"))

    op.drop_table("prescreens")
