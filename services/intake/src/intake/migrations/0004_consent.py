"""Consent as a record: the consents table, filled from the forms' consent_to_processing.

Every application taken in before holds consent_to_processing = true in its stored form (the form
refused anything else); each gets a consent record of text version 2026.0, the checkbox those
forms showed, in the applicant's language, given when the application was submitted.

Revision ID: 0004
Revises: 0003
Created: 2026-12-06 06:38:58.395061
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As consent/2026-0.toml says; written out, because this step must not change with the files.
LEGACY_VERSION = "2026.0"
LEGACY_PURPOSES = ["eligibility_assessment", "service_provision", "contact", "statistics"]
RECORDED_BY = "migration:0004"
PAGE = 1000

applications = sa.table(
    "applications",
    sa.column("id", sa.Uuid()),
    sa.column("form", sa.Text()),
    sa.column("submitted_at", sa.DateTime(timezone=True)),
)
consents = sa.table(
    "consents",
    sa.column("application_id", sa.Uuid()),
    sa.column("purposes", sa.JSON()),
    sa.column("text_version", sa.String()),
    sa.column("language", sa.String()),
    sa.column("given_at", sa.DateTime(timezone=True)),
    sa.column("recorded_by", sa.String()),
)


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("text_version", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=200), nullable=True),
        sa.Column("withdrawal_reason", sa.String(length=40), nullable=True),
        sa.Column("withdrawal_key", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.PrimaryKeyConstraint("application_id"),
    )
    record_legacy_consents(op.get_bind())


def record_legacy_consents(connection: sa.Connection) -> None:
    """A consent record for every application, a page of applications at a time."""
    query = sa.select(applications).order_by(applications.c.id).limit(PAGE)
    page = connection.execute(query).all()
    while page:
        connection.execute(
            consents.insert(),
            [
                {
                    "application_id": row.id,
                    "purposes": LEGACY_PURPOSES,
                    "text_version": LEGACY_VERSION,
                    "language": json.loads(row.form)["applicant"].get("language", "az"),
                    "given_at": row.submitted_at,
                    "recorded_by": RECORDED_BY,
                }
                for row in page
            ],
        )
        page = connection.execute(query.where(applications.c.id > page[-1].id)).all()


def downgrade() -> None:
    op.drop_table("consents")
