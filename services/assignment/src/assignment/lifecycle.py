"""A placement's life: offered, accepted, started; declined, lapsed or ended, which frees the place
for the next person waiting."""

from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from assignment.placements import NAME, Registry, active_placement, release
from assignment.store import PlacementRow
from socialsvc_common.contract import topics
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.contract.payloads import (
    PlacementStatus,
    PlacementUpdated,
    ProvisionType,
    ReleaseReason,
)
from socialsvc_common.db import transaction
from socialsvc_common.outbox import OutboxRelay, add_events
from socialsvc_common.problems import Problem
from socialsvc_common.worker import Worker

# The status a placement must have for each step.
BEFORE = {
    PlacementStatus.ACCEPTED: PlacementStatus.OFFERED,
    PlacementStatus.STARTED: PlacementStatus.ACCEPTED,
}


def _wrong_status(placement: PlacementRow, step: str) -> Problem:
    return Problem(
        409,
        "wrong-status",
        "Not possible in this status",
        f"placement {placement.id} is {placement.status}; it cannot be {step}",
        status_now=placement.status,
    )


async def advance(
    session: AsyncSession,
    registry: Registry,
    placement_id: UUID,
    to: PlacementStatus,
    actor: Actor,
) -> list[Event]:
    """Accepts an offer or starts an accepted placement; a service that starts gets its review
    date from the review policy."""
    placement = await active_placement(session, placement_id)
    if placement.status != BEFORE[to]:
        raise _wrong_status(placement, to.value)
    expires = placement.offer_expires_at
    if to is PlacementStatus.ACCEPTED and expires is not None and expires <= datetime.now(UTC):
        raise Problem(
            409, "offer-lapsed", "The offer has lapsed", f"the offer ran out at {expires}"
        )
    now = datetime.now(UTC)
    placement.status, placement.changed_by = to.value, str(actor)
    if to is PlacementStatus.STARTED:
        placement.started_at = now
        placement.review_due_at = registry.review_policy.next_review(
            ProvisionType(placement.provision_type), placement.need_level, now
        )
    session.add(placement)
    updated = PlacementUpdated(
        application_id=placement.application_id,
        placement_id=placement.id,
        provider_id=placement.provider_id,
        status=to,
        updated_at=now,
        review_due_at=placement.review_due_at,
    )
    return [
        new_event(
            topics.PLACEMENT_UPDATED,
            updated,
            producer=NAME,
            application_id=placement.application_id,
            actor=actor,
        )
    ]


async def decline(
    session: AsyncSession, registry: Registry, placement_id: UUID, actor: Actor
) -> list[Event]:
    """The person says no to an offer: the place goes to the next person who fits."""
    placement = await active_placement(session, placement_id)
    if placement.status != PlacementStatus.OFFERED:
        raise _wrong_status(placement, "declined")
    return await release(session, registry, placement_id, ReleaseReason.DECLINED.value, actor)


async def lapse(
    session: AsyncSession, registry: Registry, placement_id: UUID, now: datetime
) -> list[Event]:
    """Releases an offer nobody accepted in time; nothing if it was answered meanwhile."""
    placement = await session.get(PlacementRow, placement_id, with_for_update=True)
    if (
        placement is None
        or not placement.active
        or placement.status != PlacementStatus.OFFERED
        or placement.offer_expires_at is None
        or placement.offer_expires_at > now
    ):
        return []
    return await release(session, registry, placement_id, ReleaseReason.OFFER_LAPSED.value)


class OfferSweeper(Worker):
    """Every few seconds, lets the offers whose time ran out lapse (each in its own transaction)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        registry: Registry,
        relay: OutboxRelay,
        interval: float,
    ) -> None:
        super().__init__("offers", idle_seconds=interval)
        self._sessions, self._registry, self._relay = sessions, registry, relay

    async def step(self) -> bool:
        await self.sweep()
        return False

    async def sweep(self) -> int:
        now = datetime.now(UTC)
        async with self._sessions() as session:
            query = (
                select(PlacementRow.id)
                .where(
                    col(PlacementRow.active).is_(True),
                    PlacementRow.status == PlacementStatus.OFFERED.value,
                )
                .where(col(PlacementRow.offer_expires_at) <= now)
                .order_by(col(PlacementRow.offer_expires_at))
                .limit(100)
            )
            due = list((await session.exec(query)).all())
        lapsed = 0
        for placement_id in due:
            try:
                async with transaction(self._sessions) as session:
                    events = await lapse(session, self._registry, placement_id, now)
                    await add_events(session, events)
            except Exception as error:  # one offer's trouble must not hold up the others
                self._log.warning(
                    "offer not lapsed", placement_id=str(placement_id), error=repr(error)
                )
                continue
            lapsed += bool(events)
        if lapsed:
            self._relay.wake()
            self._log.info("offers lapsed", count=lapsed)
        return lapsed


# Reasons given through /release; declining and lapsing have their own paths.
RELEASE_REASONS = frozenset(
    {ReleaseReason.SERVICE_ENDED, ReleaseReason.MOVED, ReleaseReason.DIED, ReleaseReason.OTHER}
)


async def end(
    session: AsyncSession,
    registry: Registry,
    placement_id: UUID,
    reason: ReleaseReason,
    actor: Actor,
) -> list[Event]:
    """Releases a placement for a reason given by a caseworker."""
    placement = await active_placement(session, placement_id)
    if reason not in RELEASE_REASONS:
        raise Problem(
            422,
            "validation",
            "Invalid reason",
            f"{reason.value} has its own step (decline) or happens by itself (offer_lapsed)",
            errors=[{"field": "reason", "message": "use service_ended, moved, died or other"}],
        )
    if reason is ReleaseReason.SERVICE_ENDED and placement.status != PlacementStatus.STARTED:
        raise _wrong_status(placement, "ended as a service that never started")
    return await release(session, registry, placement_id, reason.value, actor)
