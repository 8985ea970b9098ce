"""The people in service: by direction, place, group, age band, month, organisation and provider.

A person (an application) is in service in the period when one of their placements started
before the period's end and was not released before its start; each section counts distinct
people, so someone served twice in a direction counts once there.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, distinct, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ministry_statistics.filters import Filters
from ministry_statistics.sections import Kind, Measure, Row, Section
from ministry_statistics.sql import count_of, rows_of, served, within
from ministry_statistics.tables import APPLICATIONS, DECISIONS, GROUPS, PLACEMENTS, PROVIDERS
from socialsvc_common.contract.payloads import ProvisionType
from socialsvc_common.disclosure import DisclosurePolicy

p = PLACEMENTS.c
PEOPLE = (Measure("people"),)
DIRECTIONS = [direction.value for direction in ProvisionType]


async def _people(session: AsyncSession, where: Sequence[ColumnElement[bool]]) -> int:
    return await count_of(session, select(func.count(distinct(p.ref))).where(*where))


def _rows(dimension: str, found: Sequence[tuple[Any, ...]]) -> list[Row]:
    ordered = sorted(found, key=lambda row: (row[0] is None, str(row[0])))
    return [Row({dimension: key}, {"people": count}) for key, count in ordered]


async def _by(
    session: AsyncSession, key: Any, source: Any, where: Sequence[ColumnElement[bool]]
) -> list[tuple[Any, ...]]:
    """People (distinct) per value of `key`, over `source` (the placements, joined)."""
    query = select(key, func.count(distinct(p.ref))).select_from(source).where(*where)
    return await rows_of(session, query.group_by(key))


async def served_sections(
    session: AsyncSession, filters: Filters, policy: DisclosurePolicy
) -> list[Section]:
    """The served_by_* sections, in the design's order."""
    where = served(filters)
    total = {"people": await _people(session, where)}
    by_direction = dict(await _by(session, p.provision_type, PLACEMENTS, where))
    direction_rows = [
        Row({"direction": key}, {"people": int(by_direction.get(key, 0))}) for key in DIRECTIONS
    ]
    with_place = PLACEMENTS.join(APPLICATIONS, APPLICATIONS.c.ref == p.ref)
    regions = await _by(session, APPLICATIONS.c.region, with_place, where)
    districts = await _by(session, APPLICATIONS.c.district, with_place, where)
    with_groups = PLACEMENTS.join(GROUPS, GROUPS.c.ref == p.ref)
    groups = await _by(session, GROUPS.c.target_group, with_groups, where)
    with_decision = PLACEMENTS.join(DECISIONS, DECISIONS.c.ref == p.ref)
    bands = await _by(session, DECISIONS.c.age_band, with_decision, where)
    generalised = policy.generalise_groups({str(key): int(n) for key, n in groups})
    return [
        Section("served_by_direction", ("direction",), PEOPLE, direction_rows, total),
        Section("served_by_region", ("region",), PEOPLE, _rows("region", regions), total),
        Section("served_by_district", ("district",), PEOPLE, _rows("district", districts), total),
        Section(
            "served_by_group", ("group",), PEOPLE, _rows("group", list(generalised.items())), total
        ),
        Section("served_by_age_band", ("age_band",), PEOPLE, _rows("age_band", bands), total),
        await _by_month(session, filters),
        await _by_organisation(session, where),
        await _by_provider(session, where, total),
    ]


async def _by_month(session: AsyncSession, filters: Filters) -> Section:
    where = [*served(filters), within(p.started_at, filters)]
    months = await rows_of(
        session,
        select(p.started_month, func.count(distinct(p.ref)))
        .where(*where)
        .group_by(p.started_month),
    )
    total = {"people": await _people(session, where)}
    return Section("served_by_month", ("month",), PEOPLE, _rows("month", months), total)


async def _by_organisation(session: AsyncSession, where: Sequence[ColumnElement[bool]]) -> Section:
    projects = PLACEMENTS.join(PROVIDERS, PROVIDERS.c.provider_id == p.provider_id)
    in_projects = [*where, PROVIDERS.c.provision_type == ProvisionType.NGO_PROJECT.value]
    found = await rows_of(
        session,
        select(
            PROVIDERS.c.organisation,
            func.count(distinct(p.ref)),
            func.count(distinct(p.provider_id)),
        )
        .select_from(projects)
        .where(*in_projects)
        .group_by(PROVIDERS.c.organisation),
    )
    people = select(func.count(distinct(p.ref))).select_from(projects).where(*in_projects)
    rows = [
        Row({"organisation": name}, {"people": int(n), "projects": int(k)})
        for name, n, k in sorted(found, key=lambda row: str(row[0]))
    ]
    total = {"people": await count_of(session, people)}
    measures = (Measure("people"), Measure("projects", Kind.PLAIN))
    return Section("served_by_organisation", ("organisation",), measures, rows, total)


async def _by_provider(
    session: AsyncSession, where: Sequence[ColumnElement[bool]], total: dict[str, int]
) -> Section:
    found = await _by(session, p.provider_id, PLACEMENTS, where)
    return Section("served_by_provider", ("provider",), PEOPLE, _rows("provider", found), total)
