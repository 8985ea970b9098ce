"""The event handlers: set-based over a poll's records, each writing one statement per table.

Every handler turns its batch into rows in pure code (`facts`) and writes them so that a repeat
changes nothing (the inbox skips it anyway) and the order of arrival does not matter: a start may
come before its offer, a decision before its application, a proactive offer's acceptance before
its making or its life event's pre-screen. Nothing is published.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import Column
from sqlmodel.ext.asyncio.session import AsyncSession

from ministry_statistics import facts, store
from ministry_statistics.tables import (
    APPEALS,
    DECISIONS,
    GROUPS,
    LIFE_EVENT_DIRECTIONS,
    LIFE_EVENT_GROUPS,
    LIFE_EVENTS,
    MESSAGES,
    PLACEMENTS,
    REASONS,
)
from socialsvc_common.consumer import EventConsumer, Received
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import public as pub
from socialsvc_common.contract import topics
from socialsvc_common.contract.appeals import AppealDecided, AppealLodged
from socialsvc_common.contract.envelope import Event
from socialsvc_common.geography import Geography

E = TypeVar("E")
PLACEMENT_TOPICS = (
    topics.PLACEMENT_MADE,
    topics.PLACEMENT_UPDATED,
    topics.PLACEMENT_RELEASED,
)


def register(consumer: EventConsumer, refs: facts.Refs, geography: Geography) -> None:
    """Registers a handler for every topic the figures are counted from."""

    @consumer.handle(topics.PUBLIC_APPLICATION_RECEIVED)
    async def on_received(
        session: AsyncSession, batch: Sequence[Received[pub.PublicApplicationReceived]]
    ) -> list[Event]:
        rows = (facts.application_row(item.payload, geography) for item in batch)
        await store.save_applications(session, facts.latest(rows, "ref", "revision"))
        return []

    @consumer.handle(topics.DECISION_MADE)
    async def on_decided(
        session: AsyncSession, batch: Sequence[Received[p.DecisionMade]]
    ) -> list[Event]:
        decisions = [(refs(item.payload.application_id), item.payload) for item in batch]
        latest = await latest_of(session, DECISIONS.c.decided_at, decisions, lambda m: m.decided_at)
        await store.replace(
            session,
            DECISIONS,
            [facts.decision_row(ref, made) for ref, made in latest.items()],
            {
                GROUPS: facts.each(latest, "target_group", lambda made: made.groups),
                REASONS: facts.each(latest, "reason", refusal_reasons),
            },
        )
        return []

    @consumer.handle(topics.PRESCREEN_MADE)
    async def on_prescreened(
        session: AsyncSession, batch: Sequence[Received[p.PrescreenMade]]
    ) -> list[Event]:
        screened = [(refs(item.payload.life_event_id), item.payload) for item in batch]
        column = LIFE_EVENTS.c.screened_at
        latest = await latest_of(session, column, screened, lambda m: m.screened_at)
        await store.replace(
            session,
            LIFE_EVENTS,
            [facts.life_event_row(ref, made, geography) for ref, made in latest.items()],
            {
                LIFE_EVENT_GROUPS: facts.each(latest, "target_group", lambda made: made.groups),
                LIFE_EVENT_DIRECTIONS: facts.each(
                    latest, "provision_type", lambda made: made.provision_types
                ),
            },
        )
        return []

    @consumer.handle(topics.OFFER_UPDATED)
    async def on_offer_updated(
        session: AsyncSession, batch: Sequence[Received[p.OfferUpdated]]
    ) -> list[Event]:
        rows = (facts.offer_row(refs, item.payload) for item in batch)
        await store.save_offers(session, facts.offers(rows))
        return []

    async def on_placements(session: AsyncSession, batch: Sequence[Received[Any]]) -> list[Event]:
        rows = [placement_fact(refs, item.payload) for item in batch]
        await store.merge(
            session, PLACEMENTS, facts.combined(rows, ["placement_id"]), ["placement_id"]
        )
        return []

    for topic in PLACEMENT_TOPICS:
        consumer.handle(topic)(on_placements)

    @consumer.handle(topics.PLACEMENT_WAITLISTED)
    async def on_waitlisted(
        session: AsyncSession, batch: Sequence[Received[p.PlacementWaitlisted]]
    ) -> list[Event]:
        rows = (facts.waitlist_row(refs(i.payload.application_id), i.payload) for i in batch)
        await store.save_waitlist(session, facts.latest(rows, "ref", "waitlisted_at"))
        return []

    @consumer.handle(topics.PUBLIC_PROVIDER_CHANGED)
    async def on_provider_changed(
        session: AsyncSession, batch: Sequence[Received[pub.PublicProviderChanged]]
    ) -> list[Event]:
        rows = (facts.provider_row(item.payload) for item in batch)
        await store.save_providers(session, facts.latest(rows, "provider_id", "changed_at"))
        return []

    async def on_messages(session: AsyncSession, batch: Sequence[Received[Any]]) -> list[Event]:
        found = [
            facts.message_row(refs(item.payload.application_id), item.payload) for item in batch
        ]
        rows = facts.combined([row for row in found if row is not None], ["notification_id"])
        await store.merge(session, MESSAGES, rows, ["notification_id"])
        return []

    consumer.handle(topics.NOTIFICATION_DELIVERED)(on_messages)
    consumer.handle(topics.NOTIFICATION_FAILED)(on_messages)

    async def on_appeals(session: AsyncSession, batch: Sequence[Received[Any]]) -> list[Event]:
        rows = [appeal_fact(refs, item.payload) for item in batch]
        await store.merge(session, APPEALS, facts.combined(rows, ["appeal_id"]), ["appeal_id"])
        return []

    consumer.handle(topics.APPEAL_LODGED)(on_appeals)
    consumer.handle(topics.APPEAL_DECIDED)(on_appeals)

    @consumer.handle(topics.CONSENT_WITHDRAWN)
    async def on_withdrawn(
        session: AsyncSession, batch: Sequence[Received[p.ConsentWithdrawn]]
    ) -> list[Event]:
        rows: dict[Any, dict[str, Any]] = {}
        for item in batch:
            row = facts.withdrawal_row(refs(item.payload.application_id), item.payload)
            before = rows.setdefault(row["ref"], row)
            before["for_statistics"] = before["for_statistics"] or row["for_statistics"]
        await store.save_withdrawals(session, list(rows.values()))
        return []


async def latest_of(
    session: AsyncSession,
    column: Column[datetime],
    events: Sequence[tuple[UUID, E]],
    at: Callable[[E], datetime],
) -> dict[UUID, E]:
    """The events of the batch that are now the latest of their ref: later by `at` than what
    `column` holds of it and than the batch's others."""
    known = await store.times_of(session, column, {ref for ref, _ in events})
    return facts.latest_of(events, known, at)


def refusal_reasons(made: p.DecisionMade) -> list[str]:
    """The reasons of a refusal; none for another outcome."""
    return made.refusal_reasons() if made.outcome is p.Outcome.INELIGIBLE else []


def placement_fact(refs: facts.Refs, payload: Any) -> dict[str, Any]:
    ref = refs(payload.application_id)
    if isinstance(payload, p.PlacementMade):
        return facts.placement_made_row(ref, payload)
    if isinstance(payload, p.PlacementUpdated):
        return facts.placement_updated_row(ref, payload)
    return facts.placement_released_row(ref, payload)


def appeal_fact(refs: facts.Refs, payload: AppealLodged | AppealDecided) -> dict[str, Any]:
    ref = refs(payload.application_id)
    if isinstance(payload, AppealLodged):
        return facts.appeal_lodged_row(ref, payload)
    return facts.appeal_decided_row(ref, payload)
