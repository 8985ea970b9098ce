"""The whole answer of GET /statistics: every section, counted under the filters, as it may leave
the service; and the values the filters take."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, union
from sqlmodel.ext.asyncio.session import AsyncSession

from ministry_statistics.filters import Filters
from ministry_statistics.flow_figures import (
    offers_section,
    time_to_service_section,
    waiting_section,
)
from ministry_statistics.intake_figures import application_sections
from ministry_statistics.other_figures import (
    appeals_section,
    messages_section,
    ngo_projects_section,
)
from ministry_statistics.proactive_figures import proactive_sections
from ministry_statistics.sections import Section, disclose
from ministry_statistics.served import served_sections
from ministry_statistics.tables import APPLICATIONS, LIFE_EVENTS, PLACEMENTS
from socialsvc_common.contract.payloads import ProvisionType, TargetGroup
from socialsvc_common.db import run
from socialsvc_common.disclosure import DisclosurePolicy
from socialsvc_common.geography import Geography


async def count_sections(
    session: AsyncSession, filters: Filters, policy: DisclosurePolicy, now: datetime
) -> list[Section]:
    """Every section as counted, in the order the answer gives them."""
    return [
        *await served_sections(session, filters, policy),
        *await application_sections(session, filters),
        await waiting_section(session, filters),
        await offers_section(session, filters),
        await time_to_service_section(session, filters),
        await messages_section(session, filters),
        await appeals_section(session, filters, now),
        await ngo_projects_section(session, filters, now),
        *await proactive_sections(session, filters),
    ]


def answer(
    sections: list[Section], filters: Filters, policy: DisclosurePolicy, now: datetime
) -> dict[str, Any]:
    return {
        "filters": filters.echo(),
        "policy": {"version": policy.version, "min_cell": policy.min_cell},
        "as_of": now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "sections": [disclose(section, policy) for section in sections],
    }


async def dimensions(session: AsyncSession, geography: Geography) -> dict[str, Any]:
    """The regions with their districts, the groups, the directions and the months with data."""
    months = union(
        select(APPLICATIONS.c.received_month.label("month")),
        select(PLACEMENTS.c.started_month).where(PLACEMENTS.c.started_month.is_not(None)),
        select(LIFE_EVENTS.c.screened_month),
    )
    found = sorted(month for (month,) in (await run(session, months)).all())
    return {
        "regions": [
            {"name": name, "districts": units}
            for name, units in geography.districts_by_region().items()
        ],
        "groups": [group.value for group in TargetGroup],
        "directions": [direction.value for direction in ProvisionType],
        "months": found,
    }
