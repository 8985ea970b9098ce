"""The event handlers: set-based over a poll's records, each writing one statement per table.

Every handler turns its batch into rows in pure code (`facts`) and writes them so that a repeat
changes nothing (the inbox skips it anyway) and the order of arrival does not matter: a start may
come before its offer, a decision before its application. Nothing is published.
"""

from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from ministry_statistics import facts, store
from ministry_statistics.tables import APPEALS, MESSAGES, PLACEMENTS
from socialsvc_common.consumer import EventConsumer, Received
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import public as pub
from socialsvc_common.contract import topics
from socialsvc_common.contract.appeals import AppealDecided, AppealLodged
from socialsvc_common.contract.envelope import Event
from socialsvc_common.geography import Geography

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
        known = await store.decided_at_of(session, {ref for ref, _ in decisions})
        latest = facts.latest_decisions(decisions, known)
        await store.save_decisions(
            session,
            [facts.decision_row(ref, made) for ref, made in latest.items()],
            [
                {"ref": ref, "target_group": group.value}
                for ref, made in latest.items()
                for group in dict.fromkeys(made.groups)
            ],
            [
                {"ref": ref, "reason": reason}
                for ref, made in latest.items()
                if made.outcome is p.Outcome.INELIGIBLE
                for reason in made.refusal_reasons()
            ],
        )
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
