"""Proactive offers (issue 21): the life events the state registries report, kept with the person
as the registry holds them (`life_events`, one row per registry record), eligibility's
pre-screens of them (`life_event_screens`), and the offers made where both are held and the
person likely qualifies (`offers`, one per life event).

Revision ID: 0009
Revises: 0008
Created: 2026-12-06 22:41:02.470273
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "life_event_screens",
        sa.Column("life_event_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("rule_set_version", sa.String(), nullable=False),
        sa.Column("provision_types", sa.JSON(), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("screened_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("life_event_id"),
    )
    op.create_table(
        "life_events",
        sa.Column("life_event_id", sa.Uuid(), nullable=False),
        sa.Column("reported_by", sa.String(), nullable=False),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("fin", sa.String(), nullable=False),
        sa.Column("person", sa.JSON(), nullable=False),
        sa.Column("lives_alone", sa.Boolean(), nullable=True),
        sa.Column("disability_group", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("life_event_id"),
        sa.UniqueConstraint("reported_by", "reference", name="ux_life_events_reference"),
    )
    with op.batch_alter_table("life_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_life_events_fin"), ["fin"], unique=False)

    op.create_table(
        "offers",
        sa.Column("offer_id", sa.Uuid(), nullable=False),
        sa.Column("fin", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("provision_types", sa.JSON(), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer_by", sa.Date(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(), nullable=True),
        sa.Column("application_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("offer_id"),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_offers_fin"), ["fin"], unique=False)
        batch_op.create_index(batch_op.f("ix_offers_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offers_status"))
        batch_op.drop_index(batch_op.f("ix_offers_fin"))

    op.drop_table("offers")
    with op.batch_alter_table("life_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_life_events_fin"))

    op.drop_table("life_events")
    op.drop_table("life_event_screens")
