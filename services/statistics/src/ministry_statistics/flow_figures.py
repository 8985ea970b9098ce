"""How people move towards a service: the waiting list now and how long people waited for an
offer, the offers and their answers, and the time from application to the start of a service."""

from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, exists, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ministry_statistics.filters import Filters
from ministry_statistics.sections import Kind, Measure, Row, Section
from ministry_statistics.served import DIRECTIONS
from ministry_statistics.sql import (
    count_of,
    counted,
    counts_of,
    percentiles,
    rows_of,
    whole_days,
    within,
)
from ministry_statistics.tables import APPLICATIONS, PLACEMENTS, WAITLIST, WITHDRAWALS
from socialsvc_common.contract.payloads import ReleaseReason

p, w = PLACEMENTS.c, WAITLIST.c
OFFER_RESULTS = ["accepted", "declined", "lapsed", "open"]


def _direction(column: Any, filters: Filters) -> list[ColumnElement[bool]]:
    return [column == filters.direction.value] if filters.direction else []


async def _spread(session: AsyncSession, source: Any) -> dict[str, tuple[int, Any, Any]]:
    found = await rows_of(session, percentiles(source))
    return {key: (int(n), median, p90) for key, n, median, p90 in found}


async def waiting_section(session: AsyncSession, filters: Filters) -> Section:
    """Who waits now (put on the list, offered nothing since, consent not withdrawn) and, for the
    offers made in the period to people who waited, how many days they waited."""
    offered_since = exists().where(p.ref == w.ref, p.offered_at >= w.waitlisted_at)
    chosen = [*counted(w.ref, filters), *_direction(w.provision_type, filters)]
    now = await counts_of(
        session,
        select(w.provision_type, func.count())
        .where(~offered_since, w.ref.not_in(select(WITHDRAWALS.c.ref)), *chosen)
        .group_by(w.provision_type),
    )
    after_waiting = WAITLIST.join(PLACEMENTS, and_(p.ref == w.ref, p.offered_at >= w.waitlisted_at))
    first_offers = (
        select(
            w.provision_type,
            w.waitlisted_at,
            func.min(p.offered_at).label("offered_at"),
        )
        .select_from(after_waiting)
        .where(*chosen)
        .group_by(w.ref, w.provision_type, w.waitlisted_at)
        .subquery()
    )
    waited = await _spread(
        session,
        select(
            first_offers.c.provision_type.label("key"),
            whole_days(first_offers.c.waitlisted_at, first_offers.c.offered_at).label("days"),
        ).where(within(first_offers.c.offered_at, filters)),
    )
    rows = []
    for direction in DIRECTIONS:
        n, median, p90 = waited.get(direction, (0, None, None))
        values = {
            "waiting_now": now.get(direction, 0),
            "waited_median_days": median,
            "waited_p90_days": p90,
        }
        rows.append(Row({"direction": direction}, values, {"waited": n}))
    measures = (
        Measure("waiting_now"),
        Measure("waited_median_days", Kind.STATISTIC, "waited"),
        Measure("waited_p90_days", Kind.STATISTIC, "waited"),
    )
    total = {"waiting_now": sum(now.values())}
    return Section("waiting", ("direction",), measures, rows, total)


async def offers_section(session: AsyncSession, filters: Filters) -> Section:
    """Offers made in the period by what became of them. An offer given up before it was
    answered for another reason (the person moved, consent withdrawn) is in none of the four."""
    result = case(
        (or_(p.accepted_at.is_not(None), p.started_at.is_not(None)), "accepted"),
        (p.release_reason == ReleaseReason.DECLINED.value, "declined"),
        (p.release_reason == ReleaseReason.OFFER_LAPSED.value, "lapsed"),
        (p.released_at.is_(None), "open"),
    )
    where = [
        within(p.offered_at, filters),
        *counted(p.ref, filters),
        *_direction(p.provision_type, filters),
        result.is_not(None),
    ]
    found = await counts_of(session, select(result, func.count()).where(*where).group_by(result))
    rows = [Row({"result": key}, {"offers": found.get(key, 0)}) for key in OFFER_RESULTS]
    total = {"offers": sum(found.values())}
    return Section("offers", ("result",), (Measure("offers"),), rows, total)


async def time_to_service_section(session: AsyncSession, filters: Filters) -> Section:
    """Services started in the period: how many people, and the days from their application's
    receipt to the start."""
    started = PLACEMENTS.join(APPLICATIONS, APPLICATIONS.c.ref == p.ref)
    where = [
        p.started_at.is_not(None),
        within(p.started_at, filters),
        *counted(p.ref, filters),
        *_direction(p.provision_type, filters),
    ]
    # One row a person and direction (their first start), so that neither the count behind a
    # median nor the median itself is made of one person's several placements.
    first = (
        select(p.ref, p.provision_type, func.min(p.started_at).label("started_at"))
        .select_from(started)
        .where(*where)
        .group_by(p.ref, p.provision_type)
        .subquery()
    )
    spread = await _spread(
        session,
        select(
            first.c.provision_type.label("key"),
            whole_days(APPLICATIONS.c.received_at, first.c.started_at).label("days"),
        ).select_from(first.join(APPLICATIONS, APPLICATIONS.c.ref == first.c.ref)),
    )
    everyone = select(func.count(distinct(p.ref))).select_from(started).where(*where)
    rows = []
    for direction in DIRECTIONS:
        n, median, p90 = spread.get(direction, (0, None, None))
        values = {"people": n, "median_days": median, "p90_days": p90}
        rows.append(Row({"direction": direction}, values, {"started": n}))
    measures = (
        Measure("people"),
        Measure("median_days", Kind.STATISTIC, "started"),
        Measure("p90_days", Kind.STATISTIC, "started"),
    )
    total = {"people": await count_of(session, everyone)}
    return Section("time_to_service", ("direction",), measures, rows, total)
