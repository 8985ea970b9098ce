"""The funnel of proactive services: life events as pre-screened, and their offers' statuses

Issue 21: each life event's kind, place and pre-screen outcome with the groups and directions the
pre-screen found, and each proactive offer's latest status with the application an accepted one
made, keyed by the pseudonym of the life event's id as an application's rows are by theirs.

Revision ID: 0002
Revises: 0001
Created: 2026-12-07 00:45:12.082039
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stats_life_event_directions",
        sa.Column("ref", sa.Uuid(), nullable=False),
        sa.Column("provision_type", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("ref", "provision_type"),
    )
    with op.batch_alter_table("stats_life_event_directions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stats_life_event_directions_provision_type"),
            ["provision_type"],
            unique=False,
        )

    op.create_table(
        "stats_life_event_groups",
        sa.Column("ref", sa.Uuid(), nullable=False),
        sa.Column("target_group", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("ref", "target_group"),
    )
    with op.batch_alter_table("stats_life_event_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stats_life_event_groups_target_group"), ["target_group"], unique=False
        )

    op.create_table(
        "stats_life_events",
        sa.Column("ref", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("district", sa.String(), nullable=False),
        sa.Column("region", sa.String(), nullable=False),
        sa.Column("screened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("screened_month", sa.String(length=7), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("ref"),
    )
    with op.batch_alter_table("stats_life_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stats_life_events_district"), ["district"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_stats_life_events_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_stats_life_events_region"), ["region"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_stats_life_events_screened_at"), ["screened_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_stats_life_events_screened_month"), ["screened_month"], unique=False
        )

    op.create_table(
        "stats_proactive_offers",
        sa.Column("ref", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("application_ref", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("ref"),
    )
    with op.batch_alter_table("stats_proactive_offers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stats_proactive_offers_application_ref"),
            ["application_ref"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_stats_proactive_offers_status"), ["status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("stats_proactive_offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stats_proactive_offers_status"))
        batch_op.drop_index(batch_op.f("ix_stats_proactive_offers_application_ref"))

    op.drop_table("stats_proactive_offers")
    with op.batch_alter_table("stats_life_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stats_life_events_screened_month"))
        batch_op.drop_index(batch_op.f("ix_stats_life_events_screened_at"))
        batch_op.drop_index(batch_op.f("ix_stats_life_events_region"))
        batch_op.drop_index(batch_op.f("ix_stats_life_events_kind"))
        batch_op.drop_index(batch_op.f("ix_stats_life_events_district"))

    op.drop_table("stats_life_events")
    with op.batch_alter_table("stats_life_event_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stats_life_event_groups_target_group"))

    op.drop_table("stats_life_event_groups")
    with op.batch_alter_table("stats_life_event_directions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stats_life_event_directions_provision_type"))

    op.drop_table("stats_life_event_directions")
