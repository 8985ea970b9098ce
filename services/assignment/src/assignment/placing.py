"""Placing the people a batch of decisions made eligible, within real capacity.

Three phases whatever the batch's size: read what the batch needs under its locks (the ledger rows
of every provider that could take any of them, in id order, then the people, in one fixed order),
decide for every person in pure code and in the order decided (a place taken by one is gone for
the next), write the placements, waitlist entries and ledger counts.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlmodel.ext.asyncio.session import AsyncSession

from assignment.matching import ProviderCapacity, WaitlistEntry, choose_provider, waitlist_provision
from assignment.placements import NAME, Registry, excluded, placement_made, refused, today
from assignment.registry import Provider
from assignment.store import (
    LedgerRow,
    PlacementRow,
    WaitlistRow,
    could_take,
    held_by_all,
    known_of,
    lock_candidates,
    lock_people,
    open_of,
)
from socialsvc_common.consumer import Received, Rejected
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import Envelope, Event, new_event
from socialsvc_common.contract.payloads import DecisionMade, Outcome, PlacementWaitlisted
from socialsvc_common.db import run, upsert
from socialsvc_common.geography import UnknownUnit
from socialsvc_common.withdrawals import withdrawn_of

PLACEMENTS: Table = PlacementRow.__table__  # type: ignore[attr-defined]
WAITLIST: Table = WaitlistRow.__table__  # type: ignore[attr-defined]


@dataclass
class Ledger:
    """What the batch holds under lock: the candidate providers and their places taken."""

    rows: dict[str, LedgerRow]
    providers: dict[str, Provider]
    held: dict[str, list[PlacementRow]]
    placed: list[PlacementRow] = field(default_factory=list)
    waiting: list[dict[str, Any]] = field(default_factory=list)


async def place_all(
    session: AsyncSession, registry: Registry, batch: Sequence[Received[DecisionMade]]
) -> list[Event]:
    """Places each eligible person with the best provider that has room, or waitlists them."""
    decisions = await _new_decisions(session, registry, batch)
    if not decisions:
        return []
    chosen = [decision for _, decision in decisions]
    ledgers = {row.provider_id: row for row in await lock_candidates(session, chosen)}
    people = {d.person_ref for d in chosen if d.person_ref is not None}
    await lock_people(session, people)
    ledger = Ledger(
        ledgers,
        await registry.providers.load(session, list(ledgers)),
        await held_by_all(session, people),
    )
    events: list[Event] = []
    for envelope, decision in decisions:
        events += _place(ledger, registry, envelope, decision)
    await _write(session, ledger)
    return events


async def _new_decisions(
    session: AsyncSession, registry: Registry, batch: Sequence[Received[DecisionMade]]
) -> list[tuple[Envelope, DecisionMade]]:
    """The decisions that make someone eligible and whose application was neither placed nor
    waitlisted before (in this batch or earlier) nor withdrawn, with their district in canonical
    form. A decision an appeal's overturn made is placed even after an earlier placement of its
    application ended or was refused, unless the application holds a place or waits for one now
    (so the same decision twice places once). A decision a review caused places nobody:
    `reviewing` applies it to the placement."""
    eligible = [
        item
        for item in batch
        if item.payload.outcome is Outcome.ELIGIBLE
        and item.payload.provision_types
        and item.payload.review_id is None
    ]
    ids = {item.payload.application_id for item in eligible}
    withdrawn = await withdrawn_of(session, ids)
    known = await known_of(session, ids) | withdrawn
    held = await open_of(session, ids) | withdrawn
    decisions: list[tuple[Envelope, DecisionMade]] = []
    for item in eligible:
        decision = item.payload
        if decision.application_id in (known if decision.appeal_id is None else held):
            continue
        held.add(decision.application_id)
        known.add(decision.application_id)
        try:
            district = registry.geography.canonical(decision.district)
        except UnknownUnit as unknown:
            raise Rejected(str(unknown)) from unknown
        decisions.append((item.envelope, decision.model_copy(update={"district": district})))
    return decisions


def _place(
    ledger: Ledger, registry: Registry, envelope: Envelope, decision: DecisionMade
) -> list[Event]:
    held = ledger.held.get(decision.person_ref or "", [])
    allowed = [t for t in decision.provision_types if not excluded(t, held)]
    if not allowed:
        return [refused(decision, held, envelope)]
    decision = decision.model_copy(update={"provision_types": allowed})
    candidates = [
        ProviderCapacity(ledger.providers[pid], row.used)
        for pid, row in ledger.rows.items()
        if pid in ledger.providers and could_take(row, decision)
    ]
    choice = choose_provider(decision, candidates, registry.geography, today())
    if choice is None:
        return _waitlist(ledger, registry, envelope, decision)
    ledger.rows[choice.provider.id].used += 1
    row, events = placement_made(
        registry,
        choice.provider,
        decision.application_id,
        person_ref=decision.person_ref,
        district=decision.district,
        groups=decision.groups,
        need_level=decision.need_level,
        cause=envelope,
        now=datetime.now(UTC),
    )
    ledger.placed.append(row)
    held.append(row)
    return events


def _waitlist(
    ledger: Ledger, registry: Registry, envelope: Envelope, decision: DecisionMade
) -> list[Event]:
    entry = WaitlistEntry.from_decision(decision)
    now = datetime.now(UTC)
    ledger.waiting.append(
        {
            "application_id": decision.application_id,
            "provision_type": entry.provision_type.value,
            "priority_score": entry.priority_score,
            "decided_at": decision.decided_at,
            "waitlisted_at": now,
            "waiting": True,
            "decision": decision.model_dump(mode="json"),
        }
    )
    waitlisted = PlacementWaitlisted(
        application_id=decision.application_id,
        provision_type=waitlist_provision(decision),
        district=decision.district,
        priority_score=entry.priority_score,
        waitlisted_at=now,
    )
    return [
        new_event(
            topics.PLACEMENT_WAITLISTED,
            waitlisted,
            producer=NAME,
            application_id=decision.application_id,
            cause=envelope,
        ),
        registry.public.waitlisted(waitlisted, decision.groups),
    ]


async def _write(session: AsyncSession, ledger: Ledger) -> None:
    """The batch's placements and waitlist entries, one statement each; the ledger rows it
    changed (loaded and locked in this session) are written when it commits."""
    if ledger.placed:
        rows = [row.model_dump() for row in ledger.placed]
        await run(session, insert(PLACEMENTS), rows)
    if ledger.waiting:
        # An appeal's decision may put back on the waitlist an application that left it.
        await upsert(session, WAITLIST, ledger.waiting, key=["application_id"])
