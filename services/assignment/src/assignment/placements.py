"""Placing people and releasing places: assignment's use cases over the locked capacity ledger."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from assignment.matching import (
    WaitlistEntry,
    fits,
)
from assignment.providers import ProviderCache
from assignment.registry import Provider
from assignment.review_policy import ReviewPolicy, load_review_policy
from assignment.store import (
    LedgerRow,
    PlacementRow,
    WaitlistRow,
    held_by,
    lock_ledger,
    waiting_for,
)
from socialsvc_common.contract import topics
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.envelope import Envelope, Event, new_event
from socialsvc_common.contract.payloads import (
    DecisionMade,
    PlacementMade,
    PlacementRefused,
    PlacementReleased,
    ProvisionType,
    TargetGroup,
)
from socialsvc_common.geography import Geography
from socialsvc_common.problems import Problem
from socialsvc_common.public_stream import PublicStream

NAME = "assignment"
BAKU = ZoneInfo("Asia/Baku")


def today() -> date:
    return datetime.now(BAKU).date()


@dataclass(frozen=True)
class Registry:
    """The providers (read from the database, parsed once per change) and their geography."""

    providers: ProviderCache
    # Where the public twins of placements come from (the partner streams).
    public: PublicStream
    # How long an offer waits for the person's answer before the place moves on.
    offer_ttl: timedelta = timedelta(days=7)
    # When a service that started is reviewed, and when an open review is overdue.
    review_policy: ReviewPolicy = field(default_factory=load_review_policy)

    @property
    def geography(self) -> Geography:
        return self.providers.geography


def placement_made(
    registry: Registry,
    provider: Provider,
    application_id: UUID,
    *,
    person_ref: str | None,
    district: str,
    groups: list[TargetGroup],
    need_level: int | None,
    cause: Envelope | None,
    now: datetime,
) -> tuple[PlacementRow, list[Event]]:
    """A place offered with a provider: its row and the placement.made event with its public
    twin. The caller takes the place on the ledger."""
    row = PlacementRow(
        id=uuid4(),
        application_id=application_id,
        person_ref=person_ref,
        provider_id=provider.id,
        provision_type=provider.provision_type.value,
        district=district,
        offer_expires_at=now + registry.offer_ttl,
        placed_at=now,
        need_level=need_level,
    )
    made = PlacementMade(
        application_id=application_id,
        placement_id=row.id,
        provider_id=provider.id,
        provider_name=provider.name,
        provision_type=provider.provision_type,
        district=provider.districts[0],
        placed_at=now,
        offer_expires_at=row.offer_expires_at,
    )
    event = new_event(
        topics.PLACEMENT_MADE, made, producer=NAME, application_id=application_id, cause=cause
    )
    return row, [event, registry.public.placed(made, groups, provider.served_groups)]


def _placement(
    session: AsyncSession,
    registry: Registry,
    ledger: LedgerRow,
    provider: Provider,
    decision: DecisionMade,
    *,
    cause: Envelope | None,
) -> list[Event]:
    """Takes a place on the ledger for the person `decision` made eligible: the placement.made
    event and its public twin."""
    ledger.used += 1
    session.add(ledger)
    row, events = placement_made(
        registry,
        provider,
        decision.application_id,
        person_ref=decision.person_ref,
        district=decision.district,
        groups=decision.groups,
        need_level=decision.need_level,
        cause=cause,
        now=datetime.now(UTC),
    )
    session.add(row)
    return events


# What a placement is once released, by reason.
FINAL_STATUS = {"declined": "declined", "offer_lapsed": "lapsed", "consent_withdrawn": "withdrawn"}

# Services one person can hold only one of: care at home or full residential care (and not two
# of either); NGO projects combine with anything.
EXCLUSIVE: dict[ProvisionType, frozenset[ProvisionType]] = {
    ProvisionType.HOME_CARE: frozenset({ProvisionType.HOME_CARE, ProvisionType.RESIDENTIAL}),
    ProvisionType.RESIDENTIAL: frozenset({ProvisionType.HOME_CARE, ProvisionType.RESIDENTIAL}),
}


def excluded(provision: ProvisionType, held: list[PlacementRow]) -> bool:
    return any(provision in EXCLUSIVE.get(ProvisionType(row.provision_type), ()) for row in held)


async def _held_under_lock(session: AsyncSession, person_ref: str | None) -> list[PlacementRow]:
    """What the person holds, with a per-person lock on PostgreSQL: two applications of one person
    decided at once (on different partitions) cannot both take clashing places."""
    if person_ref is None:
        return []
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.exec(select(func.pg_advisory_xact_lock(func.hashtext(person_ref))))
    return await held_by(session, person_ref)


async def clashes(session: AsyncSession, person_ref: str | None, provision: ProvisionType) -> bool:
    return excluded(provision, await _held_under_lock(session, person_ref))


def refused(decision: DecisionMade, placements: list[PlacementRow], cause: Envelope) -> Event:
    """The person holds a place that excludes every type this decision allows."""
    held = next(
        row
        for row in placements
        if any(
            t in EXCLUSIVE.get(ProvisionType(row.provision_type), ())
            for t in decision.provision_types
        )
    )
    refused = PlacementRefused(
        application_id=decision.application_id,
        provision_types=decision.provision_types,
        reason=f"the person holds a {held.provision_type} placement, which excludes these",
        conflicting_placement_id=held.id,
        refused_at=datetime.now(UTC),
    )
    return new_event(
        topics.PLACEMENT_REFUSED,
        refused,
        producer=NAME,
        application_id=decision.application_id,
        cause=cause,
    )


async def active_placement(session: AsyncSession, placement_id: UUID) -> PlacementRow:
    """The placement, locked; a Problem when it does not exist or no longer holds a place."""
    placement = await session.get(PlacementRow, placement_id, with_for_update=True)
    if placement is None:
        raise Problem(404, "not-found", "No such placement", f"no placement {placement_id}")
    if not placement.active:
        raise Problem(
            409, "already-released", "Placement already released", f"placement {placement_id} ended"
        )
    return placement


async def release(
    session: AsyncSession,
    registry: Registry,
    placement_id: UUID,
    reason: str,
    actor: Actor | None = None,
) -> list[Event]:
    """Ends a placement, frees its place and promotes the first waiting person who fits there.
    The actor (none for a lapse) is on the release alone: the service places the next person."""
    placement = await active_placement(session, placement_id)
    ledger = await lock_ledger(session, placement.provider_id)
    if ledger is None:
        raise Problem(
            409,
            "unknown-provider",
            "Unknown provider",
            f"provider {placement.provider_id} is not in the ledger",
        )
    now = datetime.now(UTC)
    placement.active, placement.released_at, placement.release_reason = False, now, reason
    placement.status = FINAL_STATUS.get(reason, "ended")
    placement.changed_by = str(actor) if actor else None
    ledger.used -= 1
    session.add_all([placement, ledger])
    released = PlacementReleased(
        application_id=placement.application_id,
        placement_id=placement.id,
        provider_id=placement.provider_id,
        reason=reason,
        released_at=now,
    )
    provider = (await registry.providers.load(session, [placement.provider_id])).get(
        placement.provider_id
    )
    served = provider.served_groups if provider else ()
    events = [
        new_event(
            topics.PLACEMENT_RELEASED,
            released,
            producer=NAME,
            application_id=placement.application_id,
            actor=actor,
        ),
        registry.public.released(released, ProvisionType(placement.provision_type), served),
    ]
    if provider is None:
        return events
    return events + await promote(session, registry, provider, ledger, cause=events[0].envelope)


async def promote(
    session: AsyncSession,
    registry: Registry,
    provider: Provider,
    ledger: LedgerRow,
    *,
    cause: Envelope | None,
) -> list[Event]:
    """Gives every free place of a provider (its ledger row locked by the caller) to the first
    waiting people who fit, by priority then time of decision."""
    # After a capacity cut the ledger kept room for those placed; it shrinks as they leave.
    ledger.capacity = max(provider.capacity, ledger.used)
    session.add(ledger)
    events: list[Event] = []
    if ledger.used >= provider.capacity:
        return events
    waiting = await waiting_for(session, provider.provision_type.value)
    for row, decision in fitting(waiting, provider, registry.geography, today()):
        if ledger.used >= provider.capacity:
            break
        if await clashes(session, decision.person_ref, provider.provision_type):
            continue
        row.waiting = False
        session.add(row)
        events += _placement(session, registry, ledger, provider, decision, cause=cause)
    return events


def fitting(
    waiting: Iterable[WaitlistRow], provider: Provider, geography: Geography, on: date
) -> Iterator[tuple[WaitlistRow, DecisionMade]]:
    """The waiting people, in the order given, who may take a place at `provider` (its type,
    reach and groups), with their decisions; whether a place they hold clashes is the caller's
    to check. Lazy, so a caller with one place to give parses no more than it needs."""
    for row in waiting:
        decision = DecisionMade.model_validate(row.decision)
        if fits(WaitlistEntry.from_decision(decision), provider, geography, on):
            yield row, decision
