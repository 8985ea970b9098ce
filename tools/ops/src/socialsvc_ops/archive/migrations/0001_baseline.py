"""Baseline: the audit archive's events and data keys.

Revision ID: 0001
Revises:
Created: 2026-12-06 06:37:21.745194
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "archive_data_keys",
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("forgotten_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("subject"),
    )
    op.create_table(
        "archived_events",
        sa.Column("topic", sa.String(length=249), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("kafka_partition", sa.Integer(), nullable=False),
        sa.Column("kafka_offset", sa.BigInteger(), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=True),
        sa.Column("correlation_id", sa.Uuid(), nullable=True),
        sa.Column("causation_id", sa.Uuid(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("key_subject", sa.String(length=100), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("invalid_reason", sa.Text(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retain_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("topic", "event_id"),
    )
    with op.batch_alter_table("archived_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_archived_events_actor"), ["actor"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_archived_events_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_archived_events_correlation_id"), ["correlation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_archived_events_event_type"), ["event_type"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_archived_events_key_subject"), ["key_subject"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_archived_events_occurred_at"), ["occurred_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_archived_events_retain_until"), ["retain_until"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("archived_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_archived_events_retain_until"))
        batch_op.drop_index(batch_op.f("ix_archived_events_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_archived_events_key_subject"))
        batch_op.drop_index(batch_op.f("ix_archived_events_event_type"))
        batch_op.drop_index(batch_op.f("ix_archived_events_correlation_id"))
        batch_op.drop_index(batch_op.f("ix_archived_events_application_id"))
        batch_op.drop_index(batch_op.f("ix_archived_events_actor"))

    op.drop_table("archived_events")
    op.drop_table("archive_data_keys")
