"""Reviews over time: the sweeper opens the reviews whose date has come (asking eligibility to
decide again) and escalates those left open too long; the decision a review causes continues the
service until the next review or ends it, and the place goes to the next person waiting."""

from collections.abc import Sequence
from datetime import UTC, datetime

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from assignment.placements import NAME, Registry, release
from assignment.review_store import (
    CONCLUDED,
    ReviewRow,
    add_reviews,
    claim_due_placements,
    claim_overdue,
    claim_undated,
    open_reviews_for_update,
)
from assignment.reviews import escalation, opened_review, review_outcome
from assignment.store import PlacementRow
from socialsvc_common.consumer import Received
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import Event, new_event
from socialsvc_common.contract.payloads import (
    DecisionMade,
    ProvisionType,
    ReleaseReason,
    ReviewConcluded,
    ReviewOutcome,
)
from socialsvc_common.db import among, transaction
from socialsvc_common.outbox import OutboxRelay, add_events
from socialsvc_common.worker import Worker

SWEEP_BATCH = 100


class ReviewSweeper(Worker):
    """Opens due reviews and escalates overdue ones, each sweep in two short transactions. Rows
    are claimed with SKIP LOCKED, so replicas share the work; a review clashing with one another
    replica opened meanwhile fails on the (placement, due time) key and is not opened twice."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        registry: Registry,
        relay: OutboxRelay,
        interval: float,
        escalated: Counter,
    ) -> None:
        super().__init__("reviews", idle_seconds=interval)
        self._sessions, self._registry, self._relay = sessions, registry, relay
        self._escalated = escalated

    async def step(self) -> bool:
        now = datetime.now(UTC)
        dated = await self.date_undated(now)
        opened = await self.open_due(now)
        escalated = await self.escalate(now)
        if opened or escalated:
            self._relay.wake()
        return SWEEP_BATCH in (dated, opened, escalated)

    async def date_undated(self, now: datetime) -> int:
        """Gives a service that started before reviews existed its first review date, one full
        interval from now (so they do not all come due at once)."""
        policy = self._registry.review_policy
        async with transaction(self._sessions) as session:
            undated = await claim_undated(session, SWEEP_BATCH)
            for placement in undated:
                kind = ProvisionType(placement.provision_type)
                placement.review_due_at = policy.next_review(kind, placement.need_level, now)
            session.add_all(undated)
        if undated:
            self._log.info("review dates given", count=len(undated))
        return len(undated)

    async def open_due(self, now: datetime) -> int:
        policy = self._registry.review_policy
        async with transaction(self._sessions) as session:
            placements = await claim_due_placements(session, now, SWEEP_BATCH)
            opened = [opened_review(placement, policy, now) for placement in placements]
            await add_reviews(session, [row for row, _ in opened])
            events = [
                new_event(topics.REVIEW_DUE, due, producer=NAME, application_id=due.application_id)
                for _, due in opened
            ]
            await add_events(session, events)
        if opened:
            self._log.info("reviews opened", count=len(opened))
        return len(opened)

    async def escalate(self, now: datetime) -> int:
        async with transaction(self._sessions) as session:
            overdue = await claim_overdue(session, now, SWEEP_BATCH)
            events = []
            for review in overdue:
                review.escalated_at = now
                escalated = escalation(review, now)
                events.append(
                    new_event(
                        topics.REVIEW_OVERDUE,
                        escalated,
                        producer=NAME,
                        application_id=review.application_id,
                    )
                )
            session.add_all(overdue)
            await add_events(session, events)
        for review in overdue:
            self._log.warning(
                "review overdue",
                review_id=str(review.id),
                placement_id=str(review.placement_id),
                application_id=str(review.application_id),
                due_at=review.due_at.isoformat(),
            )
        self._escalated.inc(len(overdue))
        return len(overdue)


async def conclude_reviews(
    session: AsyncSession, registry: Registry, batch: Sequence[Received[DecisionMade]]
) -> list[Event]:
    """Applies the decisions reviews caused: each open review once (a decision seen again, or
    for a review concluded before, changes nothing)."""
    reviews = {
        row.id: row
        for row in await open_reviews_for_update(
            session, {item.payload.review_id for item in batch if item.payload.review_id}
        )
    }
    if not reviews:
        return []
    query = (
        select(PlacementRow)
        .where(among(col(PlacementRow.id), {row.placement_id for row in reviews.values()}))
        .order_by(col(PlacementRow.id))
        .with_for_update()
    )
    placements = {row.id: row for row in (await session.exec(query)).all()}
    now = datetime.now(UTC)
    events: list[Event] = []
    for item in batch:
        review = reviews.pop(item.payload.review_id, None) if item.payload.review_id else None
        if review is not None:
            placement = placements[review.placement_id]
            events += await _conclude(
                session, registry, review=review, placement=placement, item=item, now=now
            )
    return events


async def _conclude(
    session: AsyncSession,
    registry: Registry,
    *,
    review: ReviewRow,
    placement: PlacementRow,
    item: Received[DecisionMade],
    now: datetime,
) -> list[Event]:
    decision, provision = item.payload, ProvisionType(review.provision_type)
    outcome = review_outcome(decision, provision)
    if outcome is None:
        return []
    review.status, review.concluded_at = CONCLUDED, now
    review.rule_set_version = decision.rule_set_version
    if not placement.active:
        # Ended meanwhile (released, withdrawn): nothing left to continue or end.
        session.add(review)
        return []
    review.outcome = outcome.value
    session.add(review)
    if outcome is ReviewOutcome.CONTINUED:
        placement.need_level = decision.need_level
        placement.review_due_at = registry.review_policy.next_review(
            provision, decision.need_level, now
        )
        session.add(placement)
        return [_concluded(review, placement, outcome, item, now)]
    concluded = _concluded(review, placement, outcome, item, now)
    # One by one: a release locks its provider's ledger and promotes the next person waiting.
    # Reviews ending a service are few.
    released = await release(session, registry, placement.id, ReleaseReason.REVIEW_ENDED.value)
    return [concluded, *released]


def _concluded(
    review: ReviewRow,
    placement: PlacementRow,
    outcome: ReviewOutcome,
    decided: Received[DecisionMade],
    now: datetime,
) -> Event:
    ended = outcome is ReviewOutcome.ENDED
    concluded = ReviewConcluded(
        application_id=review.application_id,
        placement_id=review.placement_id,
        review_id=review.id,
        provision_type=ProvisionType(review.provision_type),
        outcome=outcome,
        rule_set_version=review.rule_set_version or "",
        next_review_due_at=placement.review_due_at if outcome is ReviewOutcome.CONTINUED else None,
        concluded_at=now,
        appeal_by=decided.payload.appeal_by if ended else None,
    )
    return new_event(
        topics.REVIEW_CONCLUDED,
        concluded,
        producer=NAME,
        application_id=review.application_id,
        cause=decided.envelope,
    )
