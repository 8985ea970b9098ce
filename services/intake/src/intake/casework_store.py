"""Casework's tables and queries: the case search, notes on a case, and home visits."""

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Column, ColumnElement, Table, Text, bindparam, func, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.cases import CaseSearch, fold, group_pattern, like_escaped, reference_range
from intake.store import APPLICATIONS, ApplicationRow
from socialsvc_common.contract.actor import MAX_LENGTH as ACTOR_LENGTH
from socialsvc_common.db import UtcDateTime, among, insert_new, run

REQUESTED, DONE = "requested", "done"


class CaseNoteRow(SQLModel, table=True):
    """A worker's note on a case. The text is emptied when the person's data is erased."""

    __tablename__ = "case_notes"

    id: UUID = Field(primary_key=True)
    application_id: UUID = Field(foreign_key="applications.id", index=True)
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    confidential: bool = False
    author: str = Field(max_length=ACTOR_LENGTH)
    written_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class HomeVisitRow(SQLModel, table=True):
    """A visit to a person at home: asked for by notifications (no channel reached someone who
    lives alone; `event_id` is that request's, one visit per event) or planned by a worker
    (`requested_by`); done once its outcome is recorded."""

    __tablename__ = "home_visits"

    id: UUID = Field(primary_key=True)
    application_id: UUID = Field(foreign_key="applications.id", index=True)
    event_id: UUID | None = Field(default=None, unique=True)
    reason: str = Field(max_length=200)
    # The message to give in person, in the person's language (it names no personal data).
    message: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    language: str | None = Field(default=None, max_length=2)
    requested_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    requested_by: str | None = Field(default=None, max_length=ACTOR_LENGTH)
    status: str = Field(default=REQUESTED, max_length=20, index=True)
    visited_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )
    outcome: str | None = Field(default=None, max_length=20)
    recorded_by: str | None = Field(default=None, max_length=ACTOR_LENGTH)
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


CASEWORK_TABLES = (CaseNoteRow, HomeVisitRow)
NOTES: Table = CaseNoteRow.__table__  # type: ignore[attr-defined]
VISITS: Table = HomeVisitRow.__table__  # type: ignore[attr-defined]


def _matching(search: CaseSearch, districts: Collection[str]) -> list[ColumnElement[bool]]:
    """What the cases the search asks for meet, among those of `districts` (all when empty);
    erased cases hold nothing to find."""
    a = APPLICATIONS.c
    where: list[ColumnElement[bool]] = [a.erased_at.is_(None)]
    if districts:
        where.append(a.district.in_(sorted(districts)))
    if search.reference:
        low, high = reference_range(search.reference)
        where += [a.id >= low, a.id <= high]
    if search.fin:
        where.append(a.fin == search.fin)
    if search.name:
        where.append(a.name_key.like(like_escaped(fold(search.name)), escape="\\"))
    if search.district:
        where.append(a.district == search.district)
    if search.status:
        where.append(a.status == search.status.value)
    if search.target_group:
        where.append(a.target_groups.like(group_pattern(search.target_group)))
    start, end = search.submitted_between()
    if start:
        where.append(a.submitted_at >= start)
    if end:
        where.append(a.submitted_at < end)
    if search.assigned_to:
        where.append(a.assigned_to == search.assigned_to)
    return where


async def search_cases(
    session: AsyncSession, search: CaseSearch, districts: Collection[str]
) -> tuple[int, list[ApplicationRow]]:
    """How many cases match, and the page asked for, newest first."""
    where = _matching(search, districts)
    total = (await session.exec(select(func.count()).select_from(APPLICATIONS).where(*where))).one()
    page = (
        select(ApplicationRow)
        .where(*where)
        .order_by(col(ApplicationRow.submitted_at).desc(), col(ApplicationRow.id).desc())
        .limit(search.limit)
        .offset(search.offset)
    )
    return int(total), list((await session.exec(page)).all())


async def assign(
    session: AsyncSession, application_id: UUID, worker: str | None, by: str, now: datetime
) -> None:
    statement = (
        update(APPLICATIONS)
        .where(APPLICATIONS.c.id == application_id)
        .values(assigned_to=worker, assigned_by=by, assigned_at=now)
    )
    await run(session, statement)


async def set_target_groups(session: AsyncSession, groups: Mapping[UUID, str]) -> None:
    """Sets the target groups of many applications in one statement."""
    if not groups:
        return
    statement = (
        update(APPLICATIONS)
        .where(APPLICATIONS.c.id == bindparam("application"))
        .values(target_groups=bindparam("groups"))
    )
    await run(
        session,
        statement,
        [
            {"application": application_id, "groups": text}
            for application_id, text in groups.items()
        ],
    )


async def notes_of(
    session: AsyncSession, application_id: UUID, *, confidential: bool
) -> list[CaseNoteRow]:
    """The case's notes, oldest first; the confidential ones only when asked for."""
    query = select(CaseNoteRow).where(CaseNoteRow.application_id == application_id)
    if not confidential:
        query = query.where(CaseNoteRow.confidential == False)  # noqa: E712 - SQL comparison
    query = query.order_by(col(CaseNoteRow.written_at), col(CaseNoteRow.id))
    return list((await session.exec(query)).all())


async def add_visits(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> set[UUID]:
    """Inserts the visits whose request event none holds yet; the ids of those inserted."""
    return await insert_new(session, VISITS, rows, VISITS.c.id)


async def visits_with_cases(
    session: AsyncSession,
    districts: Collection[str],
    *,
    status: str | None = None,
    application_id: UUID | None = None,
    limit: int = 200,
) -> list[tuple[HomeVisitRow, ApplicationRow]]:
    """The visits of `districts` (all when empty) with their cases, of one status or case when
    asked: those still to make oldest request first, those made latest first."""
    query = select(HomeVisitRow, ApplicationRow).join(
        ApplicationRow, col(ApplicationRow.id) == col(HomeVisitRow.application_id)
    )
    if districts:
        query = query.where(col(ApplicationRow.district).in_(sorted(districts)))
    if status is not None:
        query = query.where(HomeVisitRow.status == status)
    if application_id is not None:
        query = query.where(HomeVisitRow.application_id == application_id)
    if status == DONE:
        query = query.order_by(col(HomeVisitRow.visited_at).desc(), col(HomeVisitRow.id))
    else:
        query = query.order_by(col(HomeVisitRow.requested_at), col(HomeVisitRow.id))
    return [(visit, case) for visit, case in (await session.exec(query.limit(limit))).all()]


async def erase_casework(session: AsyncSession, application_ids: Collection[UUID]) -> None:
    """Empties what workers wrote about these applications' person: the notes' text and the
    visits' notes (two statements)."""
    if not application_ids:
        return
    ids = list(application_ids)
    await run(session, update(NOTES).where(among(NOTES.c.application_id, ids)).values(text=None))
    await run(session, update(VISITS).where(among(VISITS.c.application_id, ids)).values(note=None))
