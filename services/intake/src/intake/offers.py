"""Proactive offers (issue 21). Intake keeps each life event a state registry reports with the
person as the registry holds them, and eligibility's pre-screen of it. Once it holds both and the
pre-screen says the person likely qualifies, it offers them what they may receive: one offer per
life event, open until the policy's number of days has passed. The two arrive on different
topics in either order; whichever comes second makes the offer.

Nothing beyond the pre-screen happens without the person: the offer only tells them. Accepting it
on the portal, with their consent, applies for them (offers_api).
"""

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import JSON, Column, ColumnElement, Table, UniqueConstraint, text, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.applications import NAME
from socialsvc_common.consumer import Received
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.contract.payloads import (
    Applicant,
    LifeEventKind,
    LifeEventRecorded,
    OfferMade,
    OfferStatus,
    OfferUpdated,
    Prescreen,
    PrescreenMade,
)
from socialsvc_common.db import UtcDateTime, among, insert_new, run

# Who marks an offer lapsed: no person answered it.
LAPSE_SWEEPER = "offer-sweeper"


class LifeEventRow(SQLModel, table=True):
    __tablename__ = "life_events"
    # A registry may send the same record again under another event id: kept once.
    __table_args__ = (
        UniqueConstraint("reported_by", "reference", name="ux_life_events_reference"),
    )

    life_event_id: UUID = Field(primary_key=True)
    reported_by: str  # the registry
    reference: str | None = None  # None, like the FIN, the day and the facts, once erased
    kind: str
    occurred_on: date | None = None
    fin: str | None = Field(default=None, index=True)
    person: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    lives_alone: bool | None = None
    disability_group: int | None = None
    received_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    erased_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class ScreenRow(SQLModel, table=True):
    """Eligibility's pre-screens of life events, as they arrive."""

    __tablename__ = "life_event_screens"

    life_event_id: UUID = Field(primary_key=True)
    outcome: str
    rule_set_version: str
    provision_types: list[str] = Field(sa_column=Column(JSON, nullable=False))
    missing: list[str] = Field(sa_column=Column(JSON, nullable=False))
    screened_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))


class OfferRow(SQLModel, table=True):
    __tablename__ = "offers"

    offer_id: UUID = Field(primary_key=True)  # the life event's
    fin: str | None = Field(default=None, index=True)  # None once the person is erased
    kind: str
    provision_types: list[str] = Field(sa_column=Column(JSON, nullable=False))
    missing: list[str] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default=OfferStatus.OFFERED.value, index=True)
    offered_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    answer_by: date
    answered_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )
    answered_by: str | None = None
    application_id: UUID | None = None


TABLES = (LifeEventRow, ScreenRow, OfferRow)
LIFE_EVENTS: Table = LifeEventRow.__table__  # type: ignore[attr-defined]
SCREENS: Table = ScreenRow.__table__  # type: ignore[attr-defined]
OFFERS: Table = OfferRow.__table__  # type: ignore[attr-defined]


async def keep_life_events(
    session: AsyncSession, batch: Sequence[Received[LifeEventRecorded]], now: datetime
) -> set[UUID]:
    """Keeps the life events not kept before; the ids of those new. Copies of one record in a
    batch share its id: the insert keeps the first."""
    rows = [
        {
            "life_event_id": item.payload.life_event_id,
            "reported_by": item.payload.registry.value,
            "reference": item.payload.reference,
            "kind": item.payload.kind.value,
            "occurred_on": item.payload.occurred_on,
            "fin": item.payload.person.fin,
            "person": item.payload.person.model_dump(mode="json"),
            "lives_alone": item.payload.lives_alone,
            "disability_group": item.payload.disability_group,
            "received_at": now,
        }
        for item in batch
    ]
    return await insert_new(session, LIFE_EVENTS, rows, LIFE_EVENTS.c.life_event_id)


async def keep_screens(
    session: AsyncSession, batch: Sequence[Received[PrescreenMade]]
) -> set[UUID]:
    rows = [
        {
            "life_event_id": item.payload.life_event_id,
            "outcome": item.payload.outcome.value,
            "rule_set_version": item.payload.rule_set_version,
            "provision_types": [kind.value for kind in item.payload.provision_types],
            "missing": list(item.payload.missing),
            "screened_at": item.payload.screened_at,
        }
        for item in batch
    ]
    return await insert_new(session, SCREENS, rows, SCREENS.c.life_event_id)


async def offer_where_due(
    session: AsyncSession,
    ids: Collection[UUID],
    *,
    now: datetime,
    today: date,
    answer_days: int,
    causes: dict[UUID, Any],
) -> list[Event]:
    """Offers, once each, to the people of these life events whose event and likely pre-screen
    are both held; their events. `causes`: the envelope each id arrived with."""
    if not ids:
        return []
    await one_at_a_time(session, ids)
    found = await session.exec(
        select(LifeEventRow, ScreenRow)
        .join(ScreenRow, col(ScreenRow.life_event_id) == col(LifeEventRow.life_event_id))
        .where(among(col(LifeEventRow.life_event_id), list(ids)))
        .where(col(LifeEventRow.erased_at).is_(None))  # a pre-screen late for an erased person
        .where(col(ScreenRow.outcome) == Prescreen.LIKELY.value)
    )
    answer_by = today + timedelta(days=answer_days)
    drafts = [
        (
            {
                "offer_id": event.life_event_id,
                "fin": event.fin,
                "kind": event.kind,
                "provision_types": screen.provision_types,
                "missing": screen.missing,
                "status": OfferStatus.OFFERED.value,
                "offered_at": now,
                "answer_by": answer_by,
            },
            OfferMade(
                offer_id=event.life_event_id,
                kind=event.kind,
                offered_at=now,
                answer_by=answer_by,
                provision_types=screen.provision_types,
                missing=screen.missing,
                applicant=Applicant.model_validate(event.person),
            ),
        )
        for event, screen in found.all()
    ]
    made = await insert_new(session, OFFERS, [row for row, _ in drafts], OFFERS.c.offer_id)
    return [
        event
        for row, offer in drafts
        if offer.offer_id in made
        for event in (
            new_event(
                topics.OFFER_MADE,
                offer,
                producer=NAME,
                application_id=offer.offer_id,
                cause=causes.get(offer.offer_id),
                at=now,
            ),
            offer_updated(row, now, cause=causes.get(offer.offer_id)),
        )
    ]


def offer_updated(offer: Mapping[str, Any], now: datetime, cause: Any = None) -> Event:
    """The identity-free event of an offer's new status (`offer`: its row, as written)."""
    payload = OfferUpdated(
        offer_id=offer["offer_id"],
        kind=LifeEventKind(offer["kind"]),
        status=OfferStatus(offer["status"]),
        updated_at=now,
        answer_by=offer["answer_by"],
        application_id=offer.get("application_id"),
    )
    return new_event(
        topics.OFFER_UPDATED,
        payload,
        producer=NAME,
        application_id=payload.offer_id,
        cause=cause,
        at=now,
    )


async def set_status(
    session: AsyncSession,
    offer_ids: Collection[UUID],
    was: OfferStatus,
    now: datetime,
    *conditions: ColumnElement[bool],
    **values: Any,
) -> list[Event]:
    """Moves the offers still at `was` (and meeting the conditions) to the values given, their
    status among them, in the caller's transaction; the events of those moved (an offer
    answered meanwhile is not)."""
    if not offer_ids:
        return []
    changed = await run(
        session,
        update(OFFERS)
        .where(among(OFFERS.c.offer_id, list(offer_ids)), OFFERS.c.status == was.value)
        .where(*conditions)
        .values(**values)
        .returning(
            OFFERS.c.offer_id,
            OFFERS.c.kind,
            OFFERS.c.status,
            OFFERS.c.answer_by,
            OFFERS.c.application_id,
        ),
    )
    return [offer_updated(dict(row._mapping), now) for row in changed.all()]


async def lapse_due(session: AsyncSession, today: date, now: datetime, limit: int) -> list[Event]:
    """Marks lapsed up to `limit` offers unanswered past their day; their events."""
    due = await session.exec(
        select(OfferRow.offer_id)
        .where(col(OfferRow.status) == OfferStatus.OFFERED.value, col(OfferRow.answer_by) < today)
        .order_by(col(OfferRow.answer_by), col(OfferRow.offer_id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return await set_status(
        session,
        list(due.all()),
        OfferStatus.OFFERED,
        now,
        status=OfferStatus.LAPSED.value,
        answered_at=now,
        answered_by=LAPSE_SWEEPER,
    )


async def one_at_a_time(session: AsyncSession, ids: Collection[UUID]) -> None:
    """Two replicas may take a life event and its pre-screen in two transactions at once, and
    neither would see the other's row; nor would an erasure see an offer being made. Each locks
    the ids it joins, in one order, until it commits, so whichever comes second sees what the
    first wrote. (SQLite has one writer at a time.)"""
    if session.bind is None or session.bind.dialect.name != "postgresql":
        return
    await run(
        session,
        text(
            "SELECT pg_advisory_xact_lock(hashtextextended(CAST(x AS text), 0))"
            " FROM unnest(CAST(:ids AS uuid[])) AS x ORDER BY x"
        ),
        {"ids": sorted(ids)},
    )


def status_on(offer: OfferRow, today: date) -> OfferStatus:
    """An offer not answered by its day has lapsed, whether or not a sweep has marked it."""
    status = OfferStatus(offer.status)
    if status is OfferStatus.OFFERED and today > offer.answer_by:
        return OfferStatus.LAPSED
    return status
