"""What eligibility keeps of assignment's refusals and releases: the placement endings an appeal
about a placement is lodged against (one statement per batch)."""

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from eligibility.appeals.store import save_endings
from socialsvc_common.consumer import Received
from socialsvc_common.contract.envelope import Event
from socialsvc_common.contract.payloads import PlacementRefused, PlacementReleased


async def on_placements_refused(
    session: AsyncSession, batch: Sequence[Received[PlacementRefused]]
) -> list[Event]:
    rows = [
        {
            "event_id": item.envelope.event_id,
            "application_id": item.payload.application_id,
            "placement_id": None,
            "kind": "refused",
            "reason": item.payload.reason,
            "ended_at": item.payload.refused_at,
        }
        for item in batch
    ]
    await save_endings(session, rows)
    return []


async def on_placements_released(
    session: AsyncSession, batch: Sequence[Received[PlacementReleased]]
) -> list[Event]:
    rows = [
        {
            "event_id": item.envelope.event_id,
            "application_id": item.payload.application_id,
            "placement_id": item.payload.placement_id,
            "kind": "released",
            "reason": item.payload.reason,
            "ended_at": item.payload.released_at,
        }
        for item in batch
    ]
    await save_endings(session, rows)
    return []
