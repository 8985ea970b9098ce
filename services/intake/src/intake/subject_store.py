"""Intake's queries about one person: their applications by FIN, what is still to be sent about
them, those whose retention may have ended, and the anonymising update."""

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Table, bindparam, case, func, or_, true, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.store import APPLICATIONS, ApplicationRow
from socialsvc_common.db import among, run
from socialsvc_common.outbox import OutboxRow


async def applications_of(
    session: AsyncSession, fin: str, *, lock: bool = False
) -> list[ApplicationRow]:
    """The person's applications whose data is still held, oldest first (locked when asked)."""
    query = (
        select(ApplicationRow)
        .where(ApplicationRow.fin == fin, col(ApplicationRow.erased_at).is_(None))
        .order_by(col(ApplicationRow.submitted_at), col(ApplicationRow.id))
    )
    if lock:
        query = query.with_for_update()
    return list((await session.exec(query)).all())


async def unsent_about(session: AsyncSession, ids: Collection[UUID]) -> int:
    """How many events about these applications wait in the outbox (keyed by application id)."""
    keys = [str(application_id).encode() for application_id in ids]
    query = select(func.count()).where(
        among(col(OutboxRow.key), keys), col(OutboxRow.sent_at).is_(None)
    )
    return int((await session.exec(query)).one())


async def retention_candidates(
    session: AsyncSession, closed_before: Mapping[str, datetime], limit: int
) -> list[ApplicationRow]:
    """Every held application of up to `limit` people whose applications are all closed, each
    before the time given for its status (the policy's end of retention, counted back from now)."""
    table = APPLICATIONS
    kept = case(
        *(
            (table.c.status == status, table.c.updated_at >= moment)
            for status, moment in closed_before.items()
        ),
        else_=true(),
    )
    people = (
        select(table.c.fin)
        .where(table.c.erased_at.is_(None), table.c.fin.is_not(None))
        .group_by(table.c.fin)
        .having(func.max(case((or_(table.c.is_open, kept), 1), else_=0)) == 0)
        .order_by(table.c.fin)
        .limit(limit)
    )
    query = select(ApplicationRow).where(
        col(ApplicationRow.fin).in_(people.scalar_subquery()),
        col(ApplicationRow.erased_at).is_(None),
    )
    return list((await session.exec(query)).all())


async def anonymise_applications(
    session: AsyncSession, forms: Mapping[UUID, str], now: datetime
) -> None:
    """Blanks the FIN, the name and the request hash and puts the anonymised form in, one
    statement."""
    table: Table = APPLICATIONS
    statement = (
        update(table)
        .where(table.c.id == bindparam("application"))
        .values(
            fin=None,
            applicant_name=None,
            name_key=None,
            request_hash=None,
            form=bindparam("anonymous_form"),
            erased_at=now,
        )
    )
    rows: Sequence[Mapping[str, Any]] = [
        {"application": application_id, "anonymous_form": form}
        for application_id, form in forms.items()
    ]
    await run(session, statement, rows)
