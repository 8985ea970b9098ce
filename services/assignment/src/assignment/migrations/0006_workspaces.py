"""Workspaces: each placement's district (the person's, what a social worker's scope is matched
against) and when its service started, when a person was put on the waitlist, and the services
providers delivered.

The district is filled where assignment can know it: from the decision a waitlist entry keeps
(everyone placed from the waitlist), else from a home-care team's own district (home care is given
in the person's district). A placement made at once with an institution or an NGO project keeps no
decision, so its district stays empty: unscoped staff see it, a scoped worker does not. Entries
already waiting count as waitlisted when they were decided; services that started before this
revision have no start time.

Revision ID: 0006
Revises: 0005
Created: 2026-12-06 09:28:07.985298
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("placement_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=78), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("service_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_deliveries_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_deliveries_placement_id"), ["placement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_deliveries_provider_id"), ["provider_id"], unique=False
        )

    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("district", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_placements_district"), ["district"], unique=False)

    with op.batch_alter_table("waitlist", schema=None) as batch_op:
        batch_op.add_column(sa.Column("waitlisted_at", sa.DateTime(timezone=True), nullable=True))
    _backfill()


def _backfill() -> None:
    placements = sa.table(
        "placements",
        sa.column("application_id", sa.Uuid()),
        sa.column("provider_id", sa.String()),
        sa.column("provision_type", sa.String()),
        sa.column("district", sa.String()),
    )
    waitlist = sa.table(
        "waitlist",
        sa.column("application_id", sa.Uuid()),
        sa.column("decision", sa.JSON()),
        sa.column("decided_at", sa.DateTime(timezone=True)),
        sa.column("waitlisted_at", sa.DateTime(timezone=True)),
    )
    ledger = sa.table(
        "capacity_ledger", sa.column("provider_id", sa.String()), sa.column("district", sa.String())
    )
    decided_in = (
        sa.select(waitlist.c.decision["district"].as_string())
        .where(waitlist.c.application_id == placements.c.application_id)
        .scalar_subquery()
    )
    op.execute(
        placements.update().where(placements.c.district.is_(None)).values(district=decided_in)
    )
    team_of = (
        sa.select(ledger.c.district)
        .where(ledger.c.provider_id == placements.c.provider_id)
        .scalar_subquery()
    )
    op.execute(
        placements.update()
        .where(placements.c.district.is_(None), placements.c.provision_type == "home_care")
        .values(district=team_of)
    )
    op.execute(
        waitlist.update()
        .where(waitlist.c.waitlisted_at.is_(None))
        .values(waitlisted_at=waitlist.c.decided_at)
    )


def downgrade() -> None:
    with op.batch_alter_table("waitlist", schema=None) as batch_op:
        batch_op.drop_column("waitlisted_at")

    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_placements_district"))
        batch_op.drop_column("started_at")
        batch_op.drop_column("district")

    with op.batch_alter_table("service_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_deliveries_provider_id"))
        batch_op.drop_index(batch_op.f("ix_service_deliveries_placement_id"))
        batch_op.drop_index(batch_op.f("ix_service_deliveries_application_id"))

    op.drop_table("service_deliveries")
