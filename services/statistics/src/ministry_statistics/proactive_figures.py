"""The funnel of proactive services (issue 21): the life events the state registries reported and
eligibility pre-screened in the period, by kind and by district, and how far each got.

Every measure counts life events (one offer at most each): `life_events` pre-screened, `likely` to
qualify, `offered` a service, their offer's latest status `accepted`, `declined` or `lapsed`, and
`placed`: accepted, and the application it made has a placement the person accepted or started
(at any time, not only within the period). An offer still open is offered and none of the three.

The filters are on the life event itself: the period on its pre-screen's time, the region and
district on its own place, the group on the groups its pre-screen found. A direction keeps the
life events whose pre-screen named it among what the person may receive (an unlikely one names
none), and their placements in it. An offer accepted with an application whose statistics
consent was withdrawn counts as offered, neither as accepted nor as placed.
"""

from collections import Counter

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ministry_statistics.filters import Filters
from ministry_statistics.sections import Measure, Nesting, Row, Section
from ministry_statistics.sql import ones, rows_of, withdrawn, within
from ministry_statistics.tables import (
    LIFE_EVENT_DIRECTIONS,
    LIFE_EVENT_GROUPS,
    LIFE_EVENTS,
    PLACEMENTS,
    PROACTIVE_OFFERS,
)
from socialsvc_common.contract.payloads import LifeEventKind, OfferStatus, Prescreen

le, o, p = LIFE_EVENTS.c, PROACTIVE_OFFERS.c, PLACEMENTS.c
KINDS = [kind.value for kind in LifeEventKind]
STEPS = ("life_events", "likely", "offered", "accepted", "declined", "lapsed", "placed")
MEASURES = tuple(Measure(step) for step in STEPS)
# Each step holds the next; an offer ends accepted, declined, lapsed or still open. A small
# difference (1 unlikely person in a district, say) is withheld like a small count.
FUNNEL = Nesting(
    chain=("life_events", "likely", "offered", "accepted", "placed"),
    parts=(("offered", ("accepted", "declined", "lapsed")),),
)


def _chosen(filters: Filters) -> list[ColumnElement[bool]]:
    conditions = [within(le.screened_at, filters)]
    if filters.region:
        conditions.append(le.region == filters.region)
    if filters.district:
        conditions.append(le.district == filters.district)
    if filters.group:
        g = LIFE_EVENT_GROUPS.c
        conditions.append(le.ref.in_(select(g.ref).where(g.target_group == filters.group.value)))
    if filters.direction:
        d = LIFE_EVENT_DIRECTIONS.c
        named = select(d.ref).where(d.provision_type == filters.direction.value)
        conditions.append(le.ref.in_(named))
    return conditions


def _steps(filters: Filters) -> list[ColumnElement[int]]:
    """The measures' counts, in STEPS' order, over life events joined with their offers."""
    accepted = and_(o.status == OfferStatus.ACCEPTED.value, o.application_ref.not_in(withdrawn()))
    placed = select(p.ref).where(or_(p.accepted_at.is_not(None), p.started_at.is_not(None)))
    if filters.direction:
        placed = placed.where(p.provision_type == filters.direction.value)
    return [
        func.count(),
        ones(le.outcome == Prescreen.LIKELY.value),
        ones(o.ref.is_not(None)),
        ones(accepted),
        ones(o.status == OfferStatus.DECLINED.value),
        ones(o.status == OfferStatus.LAPSED.value),
        ones(and_(accepted, o.application_ref.in_(placed))),
    ]


async def proactive_sections(session: AsyncSession, filters: Filters) -> list[Section]:
    """The funnel by kind of life event (every kind) and by district (those with life events),
    summed from one count per kind and district."""
    funnel = LIFE_EVENTS.outerjoin(PROACTIVE_OFFERS, o.ref == le.ref)
    query = (
        select(le.kind, le.district, *_steps(filters))
        .select_from(funnel)
        .where(*_chosen(filters))
        .group_by(le.kind, le.district)
    )
    kinds: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
    districts: dict[str, Counter[str]] = {}
    for kind, district, *counts in await rows_of(session, query):
        found = dict(zip(STEPS, map(int, counts), strict=True))
        kinds.setdefault(kind, Counter()).update(found)
        districts.setdefault(district, Counter()).update(found)
    total = {step: sum(counts[step] for counts in kinds.values()) for step in STEPS}
    by_district = _rows("district", dict(sorted(districts.items())))
    return [
        Section("proactive_by_kind", ("kind",), MEASURES, _rows("kind", kinds), total, FUNNEL),
        Section("proactive_by_district", ("district",), MEASURES, by_district, total, FUNNEL),
    ]


def _rows(dimension: str, found: dict[str, Counter[str]]) -> list[Row]:
    return [
        Row({dimension: key}, {step: counts[step] for step in STEPS})
        for key, counts in found.items()
    ]
