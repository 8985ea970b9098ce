"""Applications received in the period: by their latest decision, by month, and the reasons of
the refusals among them."""

from sqlalchemy import distinct, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from ministry_statistics.filters import Filters
from ministry_statistics.sections import Measure, Row, Section
from ministry_statistics.sql import counts_of, requested, rows_of, within
from ministry_statistics.tables import APPLICATIONS, DECISIONS, REASONS
from socialsvc_common.contract.payloads import Outcome

a = APPLICATIONS.c
UNDECIDED = "undecided"
OUTCOMES = [*(outcome.value for outcome in Outcome), UNDECIDED]
APPLICATIONS_MEASURE = (Measure("applications"),)


async def application_sections(session: AsyncSession, filters: Filters) -> list[Section]:
    where = [within(a.received_at, filters), *requested(a.ref, filters)]
    outcome = func.coalesce(DECISIONS.c.outcome, UNDECIDED)
    decided = APPLICATIONS.outerjoin(DECISIONS, DECISIONS.c.ref == a.ref)
    by_outcome = await counts_of(
        session, select(outcome, func.count()).select_from(decided).where(*where).group_by(outcome)
    )
    total = {"applications": sum(by_outcome.values())}
    outcome_rows = [
        Row({"outcome": key}, {"applications": by_outcome.get(key, 0)}) for key in OUTCOMES
    ]
    months = await rows_of(
        session,
        select(a.received_month, func.count())
        .where(*where)
        .group_by(a.received_month)
        .order_by(a.received_month),
    )
    refused = APPLICATIONS.join(REASONS, REASONS.c.ref == a.ref)
    reasons = await rows_of(
        session,
        select(REASONS.c.reason, func.count(distinct(a.ref)))
        .select_from(refused)
        .where(*where)
        .group_by(REASONS.c.reason)
        .order_by(REASONS.c.reason),
    )
    return [
        Section("applications_by_outcome", ("outcome",), APPLICATIONS_MEASURE, outcome_rows, total),
        Section(
            "applications_by_month",
            ("month",),
            APPLICATIONS_MEASURE,
            [Row({"month": month}, {"applications": int(n)}) for month, n in months],
            total,
        ),
        # No total: an application may be refused for several reasons, so the rows overlap.
        Section(
            "refusals_by_reason",
            ("reason",),
            APPLICATIONS_MEASURE,
            [Row({"reason": reason}, {"applications": int(n)}) for reason, n in reasons],
        ),
    ]
