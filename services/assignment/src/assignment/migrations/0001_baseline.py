"""Baseline: the schema as the services made it with create_all before migrations (release 0a3d95d).

Revision ID: 0001
Revises:
Created: 2026-12-06 06:31:06.506222
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
        "capacity_ledger",
        sa.Column("provider_id", sa.String(), nullable=False),
        sa.Column("provision_type", sa.String(), nullable=False),
        sa.Column("district", sa.String(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.CheckConstraint("used >= 0 AND used <= capacity", name="ck_ledger_within_capacity"),
        sa.PrimaryKeyConstraint("provider_id"),
    )
    with op.batch_alter_table("capacity_ledger", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_capacity_ledger_district"), ["district"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_capacity_ledger_provision_type"), ["provision_type"], unique=False
        )

    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "event_id"),
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
        "placements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("person_ref", sa.String(), nullable=True),
        sa.Column("provider_id", sa.String(), nullable=False),
        sa.Column("provision_type", sa.String(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_placements_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_placements_person_ref"), ["person_ref"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_placements_provider_id"), ["provider_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_placements_status"), ["status"], unique=False)

    op.create_table(
        "providers",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("provision_type", sa.String(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_providers_provision_type"), ["provision_type"], unique=False
        )

    op.create_table(
        "waitlist",
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("provision_type", sa.String(), nullable=False),
        sa.Column("priority_score", sa.Float(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("waiting", sa.Boolean(), nullable=False),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("application_id"),
    )
    with op.batch_alter_table("waitlist", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_waitlist_provision_type"), ["provision_type"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_waitlist_waiting"), ["waiting"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("waitlist", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_waitlist_waiting"))
        batch_op.drop_index(batch_op.f("ix_waitlist_provision_type"))

    op.drop_table("waitlist")
    with op.batch_alter_table("providers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_providers_provision_type"))

    op.drop_table("providers")
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_placements_status"))
        batch_op.drop_index(batch_op.f("ix_placements_provider_id"))
        batch_op.drop_index(batch_op.f("ix_placements_person_ref"))
        batch_op.drop_index(batch_op.f("ix_placements_application_id"))

    op.drop_table("placements")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_unsent",
            postgresql_where=sa.text("sent_at IS NULL"),
            sqlite_where=sa.text("sent_at IS NULL"),
        )

    op.drop_table("outbox")
    op.drop_table("inbox")
    with op.batch_alter_table("capacity_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_capacity_ledger_provision_type"))
        batch_op.drop_index(batch_op.f("ix_capacity_ledger_district"))

    op.drop_table("capacity_ledger")
