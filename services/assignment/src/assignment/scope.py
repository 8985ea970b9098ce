"""Whose placements a caller may see and act on: a provider its own, a social worker or reviewer
with districts those of people in its districts, everyone else all. Anything outside the scope
answers 404, as if it did not exist: a caller learns nothing of cases it may not see."""

from typing import Any, TypeVar
from uuid import UUID

from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from assignment.store import PlacementRow
from socialsvc_common.apikeys import Caller, Role
from socialsvc_common.problems import Problem

Query = TypeVar("Query", bound=SelectOfScalar[Any])


def may_see(caller: Caller, placement: PlacementRow) -> bool:
    if caller.role is Role.PROVIDER:
        return placement.provider_id == caller.provider
    if caller.districts:
        # A placement whose district is not known is outside every scope.
        return placement.district is not None and caller.serves(placement.district)
    return True


def scoped(query: Query, caller: Caller) -> Query:
    """`query` on placements narrowed to those the caller may see (the same test in SQL)."""
    if caller.role is Role.PROVIDER:
        return query.where(PlacementRow.provider_id == caller.provider)
    if caller.districts:
        return query.where(col(PlacementRow.district).in_(sorted(caller.districts)))
    return query


def no_placement(placement_id: UUID) -> Problem:
    return Problem(404, "not-found", "No such placement", f"no placement {placement_id}")


async def placement_for(session: AsyncSession, placement_id: UUID, caller: Caller) -> PlacementRow:
    """The placement, locked for the step that follows, if the caller may act on it; 404 if not
    (or if it does not exist)."""
    placement = await session.get(PlacementRow, placement_id, with_for_update=True)
    if placement is None or not may_see(caller, placement):
        raise no_placement(placement_id)
    return placement


async def placement_seen(session: AsyncSession, placement_id: UUID, caller: Caller) -> PlacementRow:
    """The placement, unlocked, if the caller may see it; 404 if not."""
    placement = await session.get(PlacementRow, placement_id)
    if placement is None or not may_see(caller, placement):
        raise no_placement(placement_id)
    return placement
