"""Intake's queries about one person: their applications and the life events a registry reported
about them (with the offers made) by FIN, what is still to be sent about them, those whose
retention may have ended, and the anonymising updates."""

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Table, bindparam, case, func, null, or_, true, update
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


def _life_event_closed_at() -> Any:
    """When a life event's purpose ended: its receipt when it led to no offer, the answer to its
    offer (declined, lapsed, or accepted: then its application keeps the person); NULL while the
    offer is open."""
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
    closed_at = _life_event_closed_at()
    held = select(APPLICATIONS.c.fin).where(
        APPLICATIONS.c.erased_at.is_(None), APPLICATIONS.c.fin.is_not(None)
    )
    kept = or_(closed_at.is_(None), closed_at >= closed_before)
    people = (
        select(LIFE_EVENTS.c.fin)
        .select_from(
            LIFE_EVENTS.outerjoin(OFFERS, OFFERS.c.offer_id == LIFE_EVENTS.c.life_event_id)
        )
        .where(LIFE_EVENTS.c.fin.is_not(None), LIFE_EVENTS.c.fin.not_in(held))
        .group_by(LIFE_EVENTS.c.fin)
        .having(func.max(case((kept, 1), else_=0)) == 0)
        .order_by(LIFE_EVENTS.c.fin)
        .limit(limit)
    )
    return [fin for (fin,) in (await run(session, people)).all()]


async def life_events_held(
    session: AsyncSession, fins: Collection[str]
) -> list[tuple[str, str | None, datetime, datetime | None]]:
    """(FIN, offer status, received at, answered at) of every life event held of these people."""
    if not fins:
        return []
    query = (
        select(LIFE_EVENTS.c.fin, OFFERS.c.status, LIFE_EVENTS.c.received_at, OFFERS.c.answered_at)
        .select_from(
            LIFE_EVENTS.outerjoin(OFFERS, OFFERS.c.offer_id == LIFE_EVENTS.c.life_event_id)
        )
        .where(among(LIFE_EVENTS.c.fin, list(fins)))
    )
    return [tuple(row) for row in (await run(session, query)).all()]


async def anonymise_life_events(
    session: AsyncSession, persons: Mapping[UUID, dict[str, Any]], now: datetime
) -> None:
    """Blanks the FIN of the life events and their offers and keeps of the person only what is
    given (district and language), two statements."""
    if not persons:
        return
    statement = (
        update(LIFE_EVENTS)
        .where(LIFE_EVENTS.c.life_event_id == bindparam("event"))
        .values(fin=None, person=bindparam("kept"), erased_at=now)
    )
    await run(session, statement, [{"event": i, "kept": kept} for i, kept in persons.items()])
    await run(
        session, update(OFFERS).where(among(OFFERS.c.offer_id, list(persons))).values(fin=None)
    )
