"""Baseline: the read model of the figures, keyed by the pseudonymous application ref

Revision ID: 0001
Revises:
Created: 2026-12-06 12:33:36.392076
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
        "inbox",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
    )
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inbox_processed_at", ["processed_at"], unique=False, postgresql_using="brin"
        )

    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("topic", sa.String(), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_unsent",
            ["id"],
            unique=False,
            postgresql_where=sa.text("sent_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL"),
        )

    op.create_table(
        "stats_appeals",
        sa.Column("appeal_id", sa.Uuid(), nullable=False),
        sa.Column("ref", sa.Uuid(), nullable=False),
        sa.Column("lodged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("respond_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("appeal_id"),
    )
    with op.batch_alter_table("stats_appeals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stats_appeals_ref"), ["ref"], unique=False)

    op.create_table(
        "stats_applications",
        sa.Column("ref", sa.Uuid(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_month", sa.String(length=7), nullable=False),
        sa.Column("district", sa.String(), nullable=False),
        sa.Column("region", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("service_requested", sa.String(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("ref"),
    )
    with op.batch_alter_table("stats_applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stats_applications_district"), ["district"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_stats_applications_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_stats_applications_received_month"), ["received_month"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_stats_applications_region"), ["region"], unique=False)

    op.create_table(
        "stats_decision_groups",
        sa.Column("ref", sa.Uuid(), nullable=False),
        sa.Column("target_group", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("ref", "target_group"),
    )
    with op.batch_alter_table("stats_decision_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stats_decision_groups_target_group"), ["target_group"], unique=False
        )

    op.create_table(
        "stats_decisions",
        sa.Column("ref", sa.Uuid(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("age_band", sa.String(), nullable=True),
        sa.Column("need_level", sa.Integer(), nullable=True),
        sa.Column("rule_set_version", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("ref"),
    )
    with op.batch_alter_table("stats_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stats_decisions_outcome"), ["outcome"], unique=False)

    op.create_table(
        "stats_messages",
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("ref", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=True),
        sa.Column("message_kind", sa.String(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("notification_id"),
    )
    with op.batch_alter_table("stats_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stats_messages_ref"), ["ref"], unique=False)

    op.create_table(
        "stats_placements",
        sa.Column("placement_id", sa.Uuid(), nullable=False),
        sa.Column("ref", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.String(), nullable=False),
        sa.Column("provision_type", sa.String(), nullable=True),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_month", sa.String(length=7), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("placement_id"),
    )
    with op.batch_alter_table("stats_placements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stats_placements_provider_id"), ["provider_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_stats_placements_ref"), ["ref"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_stats_placements_started_at"), ["started_at"], unique=False
        )

    op.create_table(
        "stats_providers",
        sa.Column("provider_id", sa.String(), nullable=False),
        sa.Column("provision_type", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("organisation", sa.String(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("contract_start", sa.Date(), nullable=True),
        sa.Column("contract_end", sa.Date(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider_id"),
    )
    with op.batch_alter_table("stats_providers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stats_providers_provision_type"), ["provision_type"], unique=False
        )

    op.create_table(
        "stats_refusal_reasons",
        sa.Column("ref", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("ref", "reason"),
    )
    op.create_table(
        "stats_waitlist",
        sa.Column("ref", sa.Uuid(), nullable=False),
        sa.Column("provision_type", sa.String(), nullable=False),
        sa.Column("waitlisted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ref"),
    )
    with op.batch_alter_table("stats_waitlist", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stats_waitlist_provision_type"), ["provision_type"], unique=False
        )

    op.create_table(
        "stats_withdrawals",
        sa.Column("ref", sa.Uuid(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("for_statistics", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("ref"),
    )


def downgrade() -> None:
    op.drop_table("stats_withdrawals")
    with op.batch_alter_table("stats_waitlist", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stats_waitlist_provision_type"))

    op.drop_table("stats_waitlist")
    op.drop_table("stats_refusal_reasons")
    with op.batch_alter_table("stats_providers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stats_providers_provision_type"))

    op.drop_table("stats_providers")
    with op.batch_alter_table("stats_placements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stats_placements_started_at"))
        batch_op.drop_index(batch_op.f("ix_stats_placements_ref"))
        batch_op.drop_index(batch_op.f("ix_stats_placements_provider_id"))

    op.drop_table("stats_placements")
    with op.batch_alter_table("stats_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stats_messages_ref"))

    op.drop_table("stats_messages")
    with op.batch_alter_table("stats_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stats_decisions_outcome"))

    op.drop_table("stats_decisions")
    with op.batch_alter_table("stats_decision_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stats_decision_groups_target_group"))

    op.drop_table("stats_decision_groups")
    with op.batch_alter_table("stats_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stats_applications_region"))
        batch_op.drop_index(batch_op.f("ix_stats_applications_received_month"))
        batch_op.drop_index(batch_op.f("ix_stats_applications_received_at"))
        batch_op.drop_index(batch_op.f("ix_stats_applications_district"))

    op.drop_table("stats_applications")
    with op.batch_alter_table("stats_appeals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stats_appeals_ref"))

    op.drop_table("stats_appeals")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_unsent",
            postgresql_where=sa.text("sent_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL"),
        )

    op.drop_table("outbox")
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_processed_at", postgresql_using="brin")

    op.drop_table("inbox")
