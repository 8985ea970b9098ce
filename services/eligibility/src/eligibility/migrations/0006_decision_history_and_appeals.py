"""Decision history and appeals: `decisions` keeps every decision of an application (numbered in
the order made, the latest the current one, an overturn naming its appeal); today's row of each
application becomes the first entry of its history. `appeals` holds appeals and their verdicts;
`placement_endings` the refusals and releases of placements (from assignment's events) an appeal
about a placement is lodged against.

The table is rebuilt rather than altered: its key changes (application id to a running number),
which SQLite cannot alter in place and PostgreSQL could only with dialect-specific steps.

Revision ID: 0006
Revises: 0005
Created: 2026-12-06 07:16:27.830430
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEPT = (
    "application_id",
    "event_id",
    "outcome",
    "rule_set_version",
    "district",
    "decided_on",
    "decided_at",
    "facts",
    "decision",
    "erased_at",
)


def _table(name: str, *extra: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(column) for column in (*KEPT, *extra)))


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("rule_set_version", sa.String(), nullable=False),
        sa.Column("district", sa.String(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "decision_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        *_columns(),
        sa.Column("appeal_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    before = _table("decisions")
    rows = sa.select(*before.c).order_by(before.c.decided_at, before.c.application_id)
    op.execute(_table("decision_history").insert().from_select(KEPT, rows))
    op.drop_index("ix_decisions_outcome", table_name="decisions")
    op.drop_table("decisions")
    op.rename_table("decision_history", "decisions")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index("ix_decisions_outcome", ["outcome"], unique=False)
        batch_op.create_index("ix_decisions_application_id", ["application_id"], unique=False)
        batch_op.create_index("ix_decisions_event_id", ["event_id"], unique=True)
        batch_op.create_index("ix_decisions_appeal_id", ["appeal_id"], unique=False)

    op.create_table(
        "appeals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("decision_event_id", sa.Uuid(), nullable=False),
        sa.Column("placement_event_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("claimed_need_level", sa.Integer(), nullable=True),
        sa.Column("lodged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lodged_by", sa.String(length=78), nullable=False),
        sa.Column("respond_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("policy_version", sa.String(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=78), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("new_decision_event_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.create_index("ix_appeals_application_id", ["application_id"], unique=False)
        batch_op.create_index("ix_appeals_respond_by", ["respond_by"], unique=False)
        batch_op.create_index("ix_appeals_status", ["status"], unique=False)

    op.create_table(
        "placement_endings",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("placement_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    with op.batch_alter_table("placement_endings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_placement_endings_application_id", ["application_id"], unique=False
        )
        batch_op.create_index("ix_placement_endings_ended_at", ["ended_at"], unique=False)


def downgrade() -> None:
    op.drop_table("placement_endings")
    op.drop_table("appeals")
    # Back to one row per application: its current decision.
    op.create_table("current_decisions", *_columns(), sa.PrimaryKeyConstraint("application_id"))
    history, newer = _table("decisions", "id").alias("d"), _table("decisions", "id").alias("n")
    later = sa.select(newer.c.id).where(
        newer.c.application_id == history.c.application_id, newer.c.id > history.c.id
    )
    rows = sa.select(*(history.c[name] for name in KEPT)).where(~later.exists())
    op.execute(_table("current_decisions").insert().from_select(KEPT, rows))
    op.drop_table("decisions")
    op.rename_table("current_decisions", "decisions")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index("ix_decisions_outcome", ["outcome"], unique=False)
