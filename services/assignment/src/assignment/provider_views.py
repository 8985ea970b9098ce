"""What a provider sees of its own: its registry entry with capacity and contract, its placements,
and the people waiting who would take its next free places, in the order they would get them.
No personal data: references, districts and dates."""

from datetime import date
from enum import StrEnum
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from assignment.deliveries import delivered_counts
from assignment.placements import EXCLUSIVE, Registry, excluded, fitting, today
from assignment.registry import NgoProject, Provider
from assignment.store import LedgerRow, PlacementRow, WaitlistRow, held_by_all, waiting_now
from socialsvc_common.contract.payloads import DecisionMade
from socialsvc_common.explanations import application_ref
from socialsvc_common.problems import Problem


class Shown(StrEnum):
    """Which placements to list: those in one step of their life, or those that ended."""

    OFFERED = "offered"
    ACCEPTED = "accepted"
    STARTED = "started"
    RELEASED = "released"


def contract_of(provider: Provider, on: date, warning_days: int) -> dict[str, Any]:
    """A social order's contract dates, the days it has left and whether to warn that it ends
    soon (or has ended); nothing for teams and institutions, which have no contract."""
    if not isinstance(provider, NgoProject):
        return {
            "contract_start": None,
            "contract_end": None,
            "contract_days_left": None,
            "contract_warning": False,
        }
    left = (provider.contract_end - on).days
    return {
        "contract_start": provider.contract_start,
        "contract_end": provider.contract_end,
        "contract_days_left": left,
        "contract_warning": left <= warning_days,
    }


def provider_entry(provider: Provider, used: int, on: date, warning_days: int) -> dict[str, Any]:
    return {
        "id": provider.id,
        "name": provider.name,
        "provision_type": provider.provision_type,
        "districts": list(provider.districts),
        "capacity": provider.capacity,
        "in_use": used,
        "free": max(provider.capacity - used, 0),
        **contract_of(provider, on, warning_days),
    }


async def own_provider(
    session: AsyncSession, registry: Registry, provider_id: str | None
) -> Provider:
    """The provider a key acts for; 404 when the key names none or one the registry lacks."""
    found = (await registry.providers.load(session, [provider_id])) if provider_id else {}
    if provider_id is None or provider_id not in found:
        raise Problem(
            404,
            "unknown-provider",
            "No such provider",
            "the key acts for no provider in the registry",
        )
    return found[provider_id]


async def entry_of(
    session: AsyncSession, registry: Registry, provider_id: str | None, warning_days: int
) -> dict[str, Any]:
    provider = await own_provider(session, registry, provider_id)
    ledger = await session.get(LedgerRow, provider.id)
    return provider_entry(provider, ledger.used if ledger else 0, today(), warning_days)


def placement_view(row: PlacementRow, services: int) -> dict[str, Any]:
    return {
        "placement_id": row.id,
        "application_id": row.application_id,
        "reference": application_ref(row.application_id),
        "status": row.status,
        "provision_type": row.provision_type,
        "district": row.district,
        "placed_at": row.placed_at,
        "offer_expires_at": row.offer_expires_at,
        "started_at": row.started_at,
        "released_at": row.released_at,
        "release_reason": row.release_reason,
        "services_delivered": services,
        "review_due_at": row.review_due_at,
    }


async def placements_of(
    session: AsyncSession, provider_id: str, shown: Shown | None, limit: int
) -> list[dict[str, Any]]:
    """The provider's placements, newest first: all, or those in one step, or those ended."""
    query = select(PlacementRow).where(PlacementRow.provider_id == provider_id)
    if shown is Shown.RELEASED:
        query = query.where(col(PlacementRow.active).is_(False))
    elif shown is not None:
        query = query.where(col(PlacementRow.active).is_(True), PlacementRow.status == shown.value)
    query = query.order_by(col(PlacementRow.placed_at).desc(), col(PlacementRow.id)).limit(limit)
    rows = list((await session.exec(query)).all())
    counts = await delivered_counts(session, [row.id for row in rows])
    return [placement_view(row, counts.get(row.id, 0)) for row in rows]


async def waitlist_of(
    session: AsyncSession, registry: Registry, provider: Provider, limit: int
) -> list[dict[str, Any]]:
    """The people waiting who fit the provider, in the order its next free places go to them:
    the order and tests `placements.promote` applies when a place frees (the waitlist's order,
    who fits the provider, and nobody a place they hold, or one given just before, excludes)."""
    waiting = await waiting_now(session, provider.provision_type.value)
    fit = list(fitting(waiting, provider, registry.geography, today()))
    held = await held_by_all(session, {d.person_ref for _, d in fit if d.person_ref})
    line: list[tuple[WaitlistRow, DecisionMade]] = []
    # Someone placed ahead holds that place when their next application comes up.
    placed_ahead: set[str] = set()
    exclusive = provider.provision_type in EXCLUSIVE
    for row, decision in fit:
        person = decision.person_ref or ""
        if excluded(provider.provision_type, held.get(person, [])) or person in placed_ahead:
            continue
        if exclusive and decision.person_ref:
            placed_ahead.add(person)
        line.append((row, decision))
    return [
        {
            "application_id": row.application_id,
            "reference": application_ref(row.application_id),
            "district": decision.district,
            "priority_score": row.priority_score,
            "waitlisted_at": row.waitlisted_at or row.decided_at,
            "position": position,
        }
        for position, (row, decision) in enumerate(line[:limit], start=1)
    ]
