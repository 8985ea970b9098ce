"""Casework: searchable case columns, assignment, case notes and home visits.

Each application gets the applicant's "First Last", its folded form for the name search, and the
district, from its stored form (an erased one keeps its district and no name). Target groups come
from eligibility's decisions, which intake did not keep: they stay empty (",") until the next
decision about the application.

Revision ID: 0008
Revises: 0007
Created: 2026-12-06 09:30:09.713028
"""

import json
import unicodedata
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAGE = 1000
# As intake.cases.fold says; written out, because this step must not change with the code.
DOTS = str.maketrans({"\u0130": "i", "I": "i", "\u0131": "i"})

applications = sa.table(
    "applications",
    sa.column("id", sa.Uuid()),
    sa.column("form", sa.Text()),
    sa.column("applicant_name", sa.String()),
    sa.column("name_key", sa.String()),
    sa.column("district", sa.String()),
)


def upgrade() -> None:
    op.create_table(
        "case_notes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("author", sa.String(length=78), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_notes_application_id"), ["application_id"], unique=False
        )

    op.create_table(
        "home_visits",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(length=78), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("visited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("recorded_by", sa.String(length=78), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("home_visits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_home_visits_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_home_visits_status"), ["status"], unique=False)

    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("applicant_name", sa.String(length=201), nullable=True))
        batch_op.add_column(sa.Column("name_key", sa.String(length=201), nullable=True))
        batch_op.add_column(sa.Column("district", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("target_groups", sa.String(length=400), nullable=False, server_default=",")
        )
        batch_op.add_column(sa.Column("assigned_to", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("assigned_by", sa.String(length=78), nullable=True))
        batch_op.add_column(sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_applications_district_status", ["district", "status"], unique=False
        )
        batch_op.create_index("ix_applications_submitted_at", ["submitted_at"], unique=False)
    fill_searchable(op.get_bind())


def searchable(form: str) -> dict[str, Any]:
    applicant = json.loads(form).get("applicant", {})
    first, last = applicant.get("first_name"), applicant.get("last_name")
    name = f"{first} {last}" if first and last else None
    folded = unicodedata.normalize("NFC", name).translate(DOTS).casefold() if name else None
    return {"name": name, "folded": folded, "place": applicant.get("district")}


def fill_searchable(connection: sa.Connection) -> None:
    """The name and district of every application, from its form, a page at a time."""
    query = sa.select(applications.c.id, applications.c.form).order_by(applications.c.id)
    statement = (
        sa.update(applications)
        .where(applications.c.id == sa.bindparam("application"))
        .values(
            applicant_name=sa.bindparam("name"),
            name_key=sa.bindparam("folded"),
            district=sa.bindparam("place"),
        )
    )
    page = connection.execute(query.limit(PAGE)).all()
    while page:
        connection.execute(
            statement, [{"application": row.id, **searchable(row.form)} for row in page]
        )
        page = connection.execute(query.where(applications.c.id > page[-1].id).limit(PAGE)).all()


def downgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index("ix_applications_submitted_at")
        batch_op.drop_index("ix_applications_district_status")
        batch_op.drop_column("assigned_at")
        batch_op.drop_column("assigned_by")
        batch_op.drop_column("assigned_to")
        batch_op.drop_column("target_groups")
        batch_op.drop_column("district")
        batch_op.drop_column("name_key")
        batch_op.drop_column("applicant_name")

    with op.batch_alter_table("home_visits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_home_visits_status"))
        batch_op.drop_index(batch_op.f("ix_home_visits_application_id"))

    op.drop_table("home_visits")
    with op.batch_alter_table("case_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_notes_application_id"))

    op.drop_table("case_notes")
