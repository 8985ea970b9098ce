"""A scoped social worker or reviewer (one with districts) sees and acts on the appeals and
decision histories of applicants of its districts alone; anything else answers 404 as if it did
not exist. The district is the one the decision names (the applicant's, from their form)."""

from uuid import UUID

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from eligibility.appeals.rules import AppealRefused
from eligibility.appeals.store import AppealRow
from eligibility.store import DecisionRow, current_decision
from socialsvc_common.apikeys import Caller


async def appeal_district(session: AsyncSession, appeal: AppealRow) -> str | None:
    """The district of the decision the appeal is about."""
    query = select(DecisionRow.district).where(DecisionRow.event_id == appeal.decision_event_id)
    return (await session.exec(query)).first()


async def appeal_in_scope(session: AsyncSession, caller: Caller, appeal_id: UUID) -> None:
    """Refuses (404, as a missing appeal) an appeal outside the caller's districts."""
    if not caller.districts:
        return
    appeal = await session.get(AppealRow, appeal_id)
    if appeal is None:
        return  # the step itself answers that it does not exist
    district = await appeal_district(session, appeal)
    if district is None or not caller.serves(district):
        raise AppealRefused(404, "not-found", f"no appeal {appeal_id}")


async def application_in_scope(session: AsyncSession, caller: Caller, application_id: UUID) -> None:
    """Refuses (404, as an application without decisions) one outside the caller's districts."""
    if not caller.districts:
        return
    current = await current_decision(session, application_id)
    if current is not None and not caller.serves(current.district):
        raise AppealRefused(404, "not-found", f"no decision on application {application_id}")
