"""Which provider takes a person, and who on the waitlist takes a freed place.

Pure functions: the service loads providers and their used capacity (under a database lock) and
asks these; nothing here reads a clock, a file or a table.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from uuid import UUID

from assignment.registry import Provider
from socialsvc_common.contract.payloads import DecisionMade, Outcome, ProvisionType, TargetGroup
from socialsvc_common.geography import Geography, Proximity

# How far from the person's own district each kind of service may be offered. Home care is given
# at home by the district's own team; NGO projects are day or community services the person must
# travel to; a residential place is full board, so any place in the country will do.
DEFAULT_REACH: Mapping[ProvisionType, Proximity] = MappingProxyType(
    {
        ProvisionType.HOME_CARE: Proximity.DISTRICT,
        ProvisionType.NGO_PROJECT: Proximity.REGION,
        ProvisionType.RESIDENTIAL: Proximity.COUNTRY,
    }
)
# A decision without a score still waits: it ranks as a score of zero, not ahead of anyone.
UNSCORED = 0.0


class NothingToPlace(ValueError):
    """The decision does not make the person eligible for any provision type."""

    def __init__(self, decision: DecisionMade) -> None:
        self.application_id = decision.application_id
        types = ", ".join(decision.provision_types) or "none"
        super().__init__(
            f"application {decision.application_id}: outcome {decision.outcome.value}, "
            f"provision types: {types}; there is nothing to place"
        )


@dataclass(frozen=True)
class ProviderCapacity:
    """A provider and how many of its places are taken now."""

    provider: Provider
    used: int

    @property
    def free(self) -> int:
        return self.provider.capacity - self.used


@dataclass(frozen=True)
class Choice:
    provider: Provider
    provision_type: ProvisionType
    proximity: Proximity


@dataclass(frozen=True)
class WaitlistEntry:
    """A person waiting for a place of one provision type (their first-ranked)."""

    application_id: UUID
    district: str
    groups: tuple[TargetGroup, ...]
    provision_type: ProvisionType
    priority_score: float
    decided_at: datetime

    @classmethod
    def from_decision(cls, decision: DecisionMade) -> "WaitlistEntry":
        score = decision.priority_score
        return cls(
            application_id=decision.application_id,
            district=decision.district,
            groups=tuple(decision.groups),
            provision_type=waitlist_provision(decision),
            priority_score=UNSCORED if score is None else score,
            decided_at=decision.decided_at,
        )


def placeable_types(decision: DecisionMade) -> list[ProvisionType]:
    """The decision's provision types in ranked order; raises NothingToPlace if there are none."""
    if decision.outcome is not Outcome.ELIGIBLE or not decision.provision_types:
        raise NothingToPlace(decision)
    return list(decision.provision_types)


def reach_of(
    provider: Provider,
    district: str,
    groups: Iterable[TargetGroup],
    geography: Geography,
    on: date,
    *,
    reach: Mapping[ProvisionType, Proximity] = DEFAULT_REACH,
) -> Proximity | None:
    """How near the provider is to a person in `district`, or None if it may not serve them.

    Capacity is not looked at: callers know it (a count of placements, or a place just freed).
    Raises UnknownUnit if `district` is not in the geography.
    """
    if not provider.active_on(on) or not provider.accepts(groups):
        return None
    nearest = min(geography.proximity(district, served) for served in provider.districts)
    return nearest if nearest <= reach[provider.provision_type] else None


def choose_provider(
    decision: DecisionMade,
    candidates: Sequence[ProviderCapacity],
    geography: Geography,
    on: date,
    *,
    reach: Mapping[ProvisionType, Proximity] = DEFAULT_REACH,
) -> Choice | None:
    """The provider to place the person with, trying provision types in the decision's order.

    Within a type: nearest first (district, region, country), then most free places, then id so
    that the same inputs always give the same answer. None means the person waits.
    Raises NothingToPlace or UnknownUnit (the decision's district), even with no candidates.
    """
    geography.canonical(decision.district)  # fail now, not only when some candidate qualifies
    for provision_type in placeable_types(decision):
        options = _options(provision_type, decision, candidates, geography, on, reach=reach)
        if options:
            proximity, best = min(options, key=lambda o: (o[0], -o[1].free, o[1].provider.id))
            return Choice(best.provider, provision_type, proximity)
    return None


def _options(
    provision_type: ProvisionType,
    decision: DecisionMade,
    candidates: Sequence[ProviderCapacity],
    geography: Geography,
    on: date,
    *,
    reach: Mapping[ProvisionType, Proximity],
) -> list[tuple[Proximity, ProviderCapacity]]:
    options = []
    for candidate in candidates:
        provider = candidate.provider
        if provider.provision_type is not provision_type or candidate.free <= 0:
            continue
        district, groups = decision.district, decision.groups
        proximity = reach_of(provider, district, groups, geography, on, reach=reach)
        if proximity is not None:
            options.append((proximity, candidate))
    return options


def waitlist_provision(decision: DecisionMade) -> ProvisionType:
    """The provision type a person waits for: their first-ranked one."""
    return placeable_types(decision)[0]


def waitlist_order(entries: Iterable[WaitlistEntry]) -> list[WaitlistEntry]:
    """Highest priority first; among equals, whoever was decided earlier; then application id."""
    return sorted(entries, key=lambda e: (-e.priority_score, e.decided_at, e.application_id))


def fits(
    entry: WaitlistEntry,
    provider: Provider,
    geography: Geography,
    on: date,
    *,
    reach: Mapping[ProvisionType, Proximity] = DEFAULT_REACH,
) -> bool:
    """Whether the waiting person may take a place at `provider` (capacity is the caller's)."""
    if provider.provision_type is not entry.provision_type:
        return False
    return reach_of(provider, entry.district, entry.groups, geography, on, reach=reach) is not None
