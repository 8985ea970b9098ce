"""Messages by channel and language, appeals by result, and the NGO projects' fill."""

from datetime import datetime

from sqlalchemy import and_, distinct, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ministry_statistics.filters import Filters
from ministry_statistics.sections import Kind, Measure, Row, Section
from ministry_statistics.sql import in_service, ones, requested, rows_of, within
from ministry_statistics.tables import APPEALS, MESSAGES, PLACEMENTS, PROVIDERS
from socialsvc_common.contract.appeals import AppealStatus
from socialsvc_common.contract.payloads import ProvisionType

PENDING = "pending"
APPEAL_RESULTS = [PENDING, AppealStatus.UPHELD.value, AppealStatus.OVERTURNED.value]


async def messages_section(session: AsyncSession, filters: Filters) -> Section:
    """Messages delivered, or finally failed, in the period."""
    m = MESSAGES.c
    delivered = m.delivered_at.is_not(None)
    failed = and_(m.delivered_at.is_(None), m.failed_at.is_not(None))
    query = (
        select(m.channel, m.language, ones(delivered), ones(failed))
        .where(
            within(func.coalesce(m.delivered_at, m.failed_at), filters), *requested(m.ref, filters)
        )
        .group_by(m.channel, m.language)
    )
    found = sorted(await rows_of(session, query), key=lambda row: (row[0], str(row[1])))
    rows = [
        Row({"channel": channel, "language": language}, {"delivered": int(d), "failed": int(f)})
        for channel, language, d, f in found
    ]
    total = {
        "delivered": sum(int(row.values["delivered"] or 0) for row in rows),
        "failed": sum(int(row.values["failed"] or 0) for row in rows),
    }
    measures = (Measure("delivered"), Measure("failed"))
    return Section("messages", ("channel", "language"), measures, rows, total)


async def appeals_section(session: AsyncSession, filters: Filters, now: datetime) -> Section:
    """Appeals lodged in the period by result; overdue: answered after the reviewer's time limit,
    or not answered and past it now."""
    ap = APPEALS.c
    result = func.coalesce(ap.status, PENDING)
    late = or_(ap.overdue.is_(True), and_(ap.status.is_(None), ap.respond_by < now))
    query = (
        select(result, func.count(), ones(late))
        .where(within(ap.lodged_at, filters), *requested(ap.ref, filters))
        .group_by(result)
    )
    found = {key: (int(n), int(o)) for key, n, o in await rows_of(session, query)}
    rows = [
        Row(
            {"result": key},
            {"appeals": found.get(key, (0, 0))[0], "overdue": found.get(key, (0, 0))[1]},
        )
        for key in APPEAL_RESULTS
    ]
    total = {
        "appeals": sum(n for n, _ in found.values()),
        "overdue": sum(o for _, o in found.values()),
    }
    return Section("appeals", ("result",), (Measure("appeals"), Measure("overdue")), rows, total)


async def ngo_projects_section(session: AsyncSession, filters: Filters, now: datetime) -> Section:
    """Every NGO project: its capacity and contract, and the people in service there at the end
    of the period (now, for a period that has not ended)."""
    measures = (
        Measure("capacity", Kind.PLAIN),
        Measure("in_service"),
        Measure("fill_percent", Kind.DERIVED, "in_service"),
        Measure("contract_start", Kind.PLAIN),
        Measure("contract_end", Kind.PLAIN),
    )
    if filters.direction not in (None, ProvisionType.NGO_PROJECT):
        return Section("ngo_projects", ("provider",), measures, [])
    p = PLACEMENTS.c
    at = min(filters.end, now)
    serving = (
        select(p.provider_id, func.count(distinct(p.ref)).label("people"))
        .where(*in_service(filters, at, at))
        .group_by(p.provider_id)
        .subquery()
    )
    pr = PROVIDERS.c
    query = (
        select(pr.provider_id, pr.organisation, pr.name, pr.capacity, serving.c.people)
        .select_from(PROVIDERS.outerjoin(serving, serving.c.provider_id == pr.provider_id))
        .add_columns(pr.contract_start, pr.contract_end)
        .where(pr.provision_type == ProvisionType.NGO_PROJECT.value)
        .order_by(pr.organisation, pr.name, pr.provider_id)
    )
    rows = []
    for provider, organisation, name, capacity, people, start, end in await rows_of(session, query):
        held = int(people or 0)
        values = {
            "capacity": capacity,
            "in_service": held,
            "fill_percent": round(100 * held / capacity, 1) if capacity else None,
            "contract_start": start.isoformat() if start else None,
            "contract_end": end.isoformat() if end else None,
        }
        keys = {"provider": provider, "organisation": organisation, "name": name}
        rows.append(Row(keys, values))
    return Section("ngo_projects", ("provider",), measures, rows)
