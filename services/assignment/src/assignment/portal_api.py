"""Assignment's routes for the e-government portal: the citizen it names (X-Citizen-FIN) accepts
or declines a place offered to them.

A placement is the citizen's when its person reference is the pseudonym of their FIN (the one
intake put on the application); anyone else's placement is 404, as one that does not exist. The
steps are the staff's own, recorded with the portal's key as the actor.
"""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter
from sqlmodel.ext.asyncio.session import AsyncSession

from assignment.lifecycle import advance, decline
from assignment.placements import Registry
from assignment.steps import run_step
from assignment.store import PlacementRow
from socialsvc_common.auth import AUTH_RESPONSES
from socialsvc_common.contract.envelope import Event
from socialsvc_common.contract.payloads import PlacementStatus
from socialsvc_common.portal import Citizen, citizen, not_theirs
from socialsvc_common.service import Runtime

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
Vouched = Annotated[Citizen, citizen()]


async def theirs(
    session: AsyncSession, placement_id: UUID, person: Citizen, pseudonym_key: bytes
) -> None:
    """Refuses (404) a placement that is not the citizen's; locks it for the step that follows."""
    placement = await session.get(PlacementRow, placement_id, with_for_update=True)
    if placement is None or placement.person_ref != person.person_ref(pseudonym_key):
        raise not_theirs("placement", placement_id)


def portal_router(runtime: Runtime, registry: Registry, pseudonym_key: bytes) -> APIRouter:
    api = APIRouter(
        prefix="/portal/placements",
        tags=["portal"],
        responses={**AUTH_RESPONSES, 404: PROBLEM, 409: PROBLEM, 422: PROBLEM},
    )

    @api.post(
        "/{placement_id}/accept",
        status_code=202,
        summary="The citizen accepts the place offered to them (before the offer lapses)",
    )
    async def accept(placement_id: UUID, person: Vouched) -> dict[str, Any]:
        async def work(session: AsyncSession) -> list[Event]:
            await theirs(session, placement_id, person, pseudonym_key)
            return await advance(
                session, registry, placement_id, PlacementStatus.ACCEPTED, person.actor
            )

        return await run_step(runtime, work)

    @api.post(
        "/{placement_id}/decline",
        status_code=202,
        summary="The citizen declines the place offered; it goes to the next person waiting",
    )
    async def decline_offer(placement_id: UUID, person: Vouched) -> dict[str, Any]:
        async def work(session: AsyncSession) -> list[Event]:
            await theirs(session, placement_id, person, pseudonym_key)
            return await decline(session, registry, placement_id, person.actor)

        return await run_step(runtime, work)

    return api
