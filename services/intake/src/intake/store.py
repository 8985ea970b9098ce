"""Intake's tables: applications (with their personal data, which stays here) and journeys."""

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    Column,
    Delete,
    Index,
    Table,
    Text,
    bindparam,
    delete,
    false,
    func,
    insert,
    text,
    update,
)
from sqlmodel import Field, SQLModel, col, select, tuple_
from sqlmodel.ext.asyncio.session import AsyncSession

from socialsvc_common.contract.actor import MAX_LENGTH as ACTOR_LENGTH
from socialsvc_common.db import UtcDateTime, among, insert_new, run
from socialsvc_common.retention import Rule


class Status(StrEnum):
    RECEIVED = "received"
    NEEDS_INFORMATION = "needs_information"
    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    WAITLISTED = "waitlisted"
    PLACED = "placed"
    REFUSED = "refused"
    RELEASED = "released"
    # The facts asked for never came (policy/needs_information.toml). Last but one: no event of
    # another service moves an application out of it, but the person may still withdraw.
    EXPIRED = "expired"
    # Last, so no event of another service moves an application out of it.
    WITHDRAWN = "withdrawn"


# A status only moves forward: events of different topics may arrive in either order.
STATUS_RANK = {status: rank for rank, status in enumerate(Status)}
CLOSED = frozenset(
    {Status.INELIGIBLE, Status.REFUSED, Status.RELEASED, Status.EXPIRED, Status.WITHDRAWN}
)
# Facts are added while the decision is pending or asked for them; once a person is eligible,
# assignment acts on that decision and a change goes through a caseworker instead.
OPEN_FOR_FACTS = frozenset({Status.RECEIVED, Status.NEEDS_INFORMATION})
DECIDABLE = frozenset(
    {Status.RECEIVED, Status.NEEDS_INFORMATION, Status.ELIGIBLE, Status.INELIGIBLE}
)
# What a decision an appeal made moves on from, besides the decidable: a placement refused or ended.
REOPENABLE = frozenset({Status.REFUSED, Status.RELEASED})


class ApplicationRow(SQLModel, table=True):
    __tablename__ = "applications"
    __table_args__ = (
        # One open application per person and service, enforced by the database itself.
        Index(
            "ux_applications_open_per_person",
            "fin",
            "service_requested",
            unique=True,
            postgresql_where=text("is_open"),
            sqlite_where=text("is_open"),
        ),
        # The casework search: a district's cases by status, everyone's newest first.
        Index("ix_applications_district_status", "district", "status"),
        Index("ix_applications_submitted_at", "submitted_at"),
    )

    id: UUID = Field(primary_key=True)
    # None once the person's data is erased; the row stays for the statistics. Indexed: the
    # portal and subject access look a person's applications up by it.
    fin: str | None = Field(default=None, max_length=7, index=True)
    service_requested: str
    channel: str
    status: str = Field(default=Status.RECEIVED.value)
    is_open: bool = True
    idempotency_key: str | None = Field(default=None, unique=True, max_length=200)
    request_hash: str | None = Field(default=None, max_length=64)
    form: str = Field(sa_column=Column(Text, nullable=False))
    submitted_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    erased_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    # Who submitted it and who last added facts, as `<role>:<name>` (contract.actor).
    submitted_by: str | None = Field(default=None, max_length=ACTOR_LENGTH)
    facts_added_by: str | None = Field(default=None, max_length=ACTOR_LENGTH)
    # When the person was last reminded of the facts a needs-information decision asked for.
    information_reminded_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )
    # What the casework search finds a case by, without reading the form (intake.cases): the
    # applicant's "First Last" and its folded form (None once erased), the district (kept, as the
    # statistics' dimension) and the target groups of the latest decision, comma-wrapped.
    applicant_name: str | None = Field(default=None, max_length=201)
    name_key: str | None = Field(default=None, max_length=201)
    district: str | None = Field(default=None, max_length=100)
    target_groups: str = Field(default=",", max_length=400)
    # The worker (a key's name) the case is assigned to, who assigned it and when.
    assigned_to: str | None = Field(default=None, max_length=64)
    assigned_by: str | None = Field(default=None, max_length=ACTOR_LENGTH)
    assigned_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )


class JourneyEntry(SQLModel, table=True):
    __tablename__ = "journey"

    event_id: UUID = Field(primary_key=True)
    application_id: UUID = Field(index=True)
    type: str
    time: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Who gave the command behind the step; none for a step a service took by itself.
    actor: str | None = Field(default=None, max_length=ACTOR_LENGTH)


class ErasureRow(SQLModel, table=True):
    """One erasure of one person's data: the pseudonymous record of who asked, why and when."""

    __tablename__ = "erasures"

    id: UUID = Field(primary_key=True)
    person_ref: str = Field(index=True, max_length=32)
    reason: str
    legal_basis: str = Field(max_length=500)
    requested_by: str
    applications: int
    erased_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class ConsentRow(SQLModel, table=True):
    """What the person agreed to for one application: the purposes of the text they were shown,
    its version and language, when, who recorded it; and the withdrawal, once there is one."""

    __tablename__ = "consents"

    application_id: UUID = Field(primary_key=True, foreign_key="applications.id")
    purposes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    text_version: str = Field(max_length=40)
    language: str = Field(max_length=2)
    given_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    recorded_by: str = Field(max_length=200)
    withdrawn_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )
    withdrawn_by: str | None = Field(default=None, max_length=200)
    withdrawal_reason: str | None = Field(default=None, max_length=40)
    # The withdrawal's Idempotency-Key: the same request again is answered as the first time.
    withdrawal_key: str | None = Field(default=None, max_length=200)


TABLES = (ApplicationRow, JourneyEntry, ErasureRow, ConsentRow)
APPLICATIONS: Table = ApplicationRow.__table__  # type: ignore[attr-defined]
JOURNEY: Table = JourneyEntry.__table__  # type: ignore[attr-defined]
CONSENTS: Table = ConsentRow.__table__  # type: ignore[attr-defined]


async def insert_applications(
    session: AsyncSession, rows: Sequence[Mapping[str, Any]]
) -> set[UUID]:
    """Inserts the applications that clash with no idempotency key and no open application of
    the same person and service (the unique indexes decide); the ids of those inserted."""
    return await insert_new(session, APPLICATIONS, rows, APPLICATIONS.c.id)


async def by_keys(session: AsyncSession, keys: Collection[str]) -> dict[str, ApplicationRow]:
    """The applications made under these idempotency keys."""
    query = select(ApplicationRow).where(among(col(ApplicationRow.idempotency_key), keys))
    return {row.idempotency_key or "": row for row in (await session.exec(query)).all()}


async def open_for(
    session: AsyncSession, people: Collection[tuple[str, str]]
) -> dict[tuple[str, str], ApplicationRow]:
    """The open applications of these (FIN, service requested) pairs."""
    pairs = tuple_(col(ApplicationRow.fin), col(ApplicationRow.service_requested))
    query = select(ApplicationRow).where(
        pairs.in_(list(people)),
        ApplicationRow.is_open == True,  # noqa: E712 - SQL comparison
    )
    return {
        (row.fin or "", row.service_requested): row for row in (await session.exec(query)).all()
    }


async def statuses_of(session: AsyncSession, ids: Collection[UUID]) -> dict[UUID, Status]:
    """The current status of each of these applications that exists."""
    query = select(ApplicationRow.id, ApplicationRow.status).where(
        among(col(ApplicationRow.id), ids)
    )
    return {row_id: Status(status) for row_id, status in (await session.exec(query)).all()}


async def add_consents(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        await run(session, insert(CONSENTS), list(rows))


async def add_journey(session: AsyncSession, entries: Sequence[Mapping[str, Any]]) -> None:
    if entries:
        await run(session, insert(JOURNEY), list(entries))


async def set_statuses(
    session: AsyncSession, changes: Sequence[Mapping[str, Any]], now: datetime
) -> None:
    """Sets (id, status, is_open) of many applications in one statement."""
    if not changes:
        return
    statement = (
        update(APPLICATIONS)
        .where(APPLICATIONS.c.id == bindparam("application"))
        .values(status=bindparam("new_status"), is_open=bindparam("open"), updated_at=now)
    )
    await run(
        session,
        statement,
        [
            {"application": c["id"], "new_status": c["status"], "open": c["is_open"]}
            for c in changes
        ],
    )


async def journey_of(session: AsyncSession, application_id: UUID) -> list[JourneyEntry]:
    query = (
        select(JourneyEntry)
        .where(JourneyEntry.application_id == application_id)
        .order_by(JourneyEntry.time, JourneyEntry.type)  # type: ignore[arg-type]
    )
    return list((await session.exec(query)).all())


async def revisions(session: AsyncSession, application_id: UUID) -> int:
    """How many times the application was sent to be decided (its received events)."""
    query = select(func.count()).where(
        JourneyEntry.application_id == application_id,
        JourneyEntry.type == "intake.application.received",
    )
    return int((await session.exec(query)).one())


def journey_rule(keep: timedelta) -> Rule:
    """The journeys of closed applications whose last step is older than the cutoff (the audit
    archive keeps every event for its own, longer, retention)."""

    def statement(cutoff: datetime, limit: int) -> Delete:
        stale = (
            select(JOURNEY.c.application_id)
            .join(APPLICATIONS, APPLICATIONS.c.id == JOURNEY.c.application_id)
            .where(APPLICATIONS.c.is_open == false())
            .group_by(JOURNEY.c.application_id)
            .having(func.max(JOURNEY.c.time) < cutoff)
            .limit(limit)
        )
        return delete(JOURNEY).where(JOURNEY.c.application_id.in_(stale))

    return Rule("journey", keep, statement)
