"""Intake's queries about one person: their applications and the life events a registry reported
about them (with the offers made) by FIN, what is still to be sent about them, those whose
retention may have ended, and the anonymising updates."""

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Table, bindparam, case, func, null, or_, true, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intake.offers import LIFE_EVENTS, OFFERS, LifeEventRow, OfferRow
from intake.store import APPLICATIONS, ApplicationRow
from socialsvc_common.contract.payloads import OfferStatus
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
    session: AsyncSession,
    closed_before: Mapping[str, datetime],
    offers_closed_before: datetime,
    limit: int,
) -> list[ApplicationRow]:
    """Every held application of up to `limit` people whose applications are all closed, each
    before the time given for its status (the policy's end of retention, counted back from now),
    and who have no life event still kept (`life_event_candidates`' rule)."""
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
        .where(
            table.c.erased_at.is_(None),
            table.c.fin.is_not(None),
            ~life_events_kept(table.c.fin, offers_closed_before),
        )
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
    if not forms:
        return
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


async def life_events_of(
    session: AsyncSession, fin: str, *, lock: bool = False
) -> list[tuple[LifeEventRow, OfferRow | None]]:
    """The life events reported about the person that are still held, each with its offer if
    one was made, oldest first (locked when asked)."""
    query = (
        select(LifeEventRow, OfferRow)
        .outerjoin(OfferRow, col(OfferRow.offer_id) == col(LifeEventRow.life_event_id))
        .where(LifeEventRow.fin == fin)
        .order_by(col(LifeEventRow.received_at), col(LifeEventRow.life_event_id))
    )
    if lock:
        query = query.with_for_update(of=LifeEventRow)
    return [(event, offer) for event, offer in (await session.exec(query)).all()]


WITH_OFFERS = LIFE_EVENTS.outerjoin(OFFERS, OFFERS.c.offer_id == LIFE_EVENTS.c.life_event_id)


def life_event_closed_at() -> Any:
    """When a life event's purpose ended: its receipt when it led to no offer, the answer to its
    offer (declined, lapsed, or accepted: its application has a retention of its own besides);
    NULL while the offer is open. `RetentionPolicy.life_event_retained_until` in Python."""
    closed = [OfferStatus.ACCEPTED.value, OfferStatus.DECLINED.value, OfferStatus.LAPSED.value]
    return case(
        (OFFERS.c.offer_id.is_(None), LIFE_EVENTS.c.received_at),
        (OFFERS.c.status.in_(closed), OFFERS.c.answered_at),
        else_=null(),
    )


async def life_event_candidates(
    session: AsyncSession, closed_before: datetime, limit: int
) -> list[str]:
    """Up to `limit` people with no application held whose every life event's purpose ended
    before `closed_before` (now, less the policy's days)."""
    applied = (
        select(APPLICATIONS.c.id)
        .where(APPLICATIONS.c.fin == LIFE_EVENTS.c.fin, APPLICATIONS.c.erased_at.is_(None))
        .exists()
    )
    people = (
        select(LIFE_EVENTS.c.fin)
        .select_from(WITH_OFFERS)
        .where(LIFE_EVENTS.c.fin.is_not(None), ~applied)
        .group_by(LIFE_EVENTS.c.fin)
        .having(func.max(case((_kept(closed_before), 1), else_=0)) == 0)
        .order_by(LIFE_EVENTS.c.fin)
        .limit(limit)
    )
    return [fin for (fin,) in (await run(session, people)).all()]


def _kept(closed_before: datetime) -> ColumnElement[bool]:
    """A life event still kept: its offer open, or its purpose ended since `closed_before`."""
    closed_at = life_event_closed_at()
    return or_(closed_at.is_(None), closed_at >= closed_before)


def life_events_kept(fin: Any, closed_before: datetime) -> ColumnElement[bool]:
    """Whether the person of `fin` (a column) has a life event still kept."""
    return (
        select(LIFE_EVENTS.c.life_event_id)
        .select_from(WITH_OFFERS)
        .where(LIFE_EVENTS.c.fin == fin, _kept(closed_before))
        .exists()
    )


async def anonymise_life_events(
    session: AsyncSession, persons: Mapping[UUID, dict[str, Any]], now: datetime
) -> None:
    """Blanks the FIN of the life events and their offers, the registry's reference, the day and
    the facts (a disability group is health data), and keeps of the person only what is given
    (district and language); two statements. The life event's id, made from the reference,
    stays: a copy of the record sent again is recognised and offered nothing."""
    if not persons:
        return
    statement = (
        update(LIFE_EVENTS)
        .where(LIFE_EVENTS.c.life_event_id == bindparam("event"))
        .values(
            fin=None,
            person=bindparam("kept"),
            reference=None,
            occurred_on=None,
            lives_alone=None,
            disability_group=None,
            erased_at=now,
        )
    )
    await run(session, statement, [{"event": i, "kept": kept} for i, kept in persons.items()])
    await run(
        session, update(OFFERS).where(among(OFFERS.c.offer_id, list(persons))).values(fin=None)
    )
