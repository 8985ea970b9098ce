"""Policy simulation: what a candidate rule set would decide on the applications already decided.

Pure: stored applications in, a report out; nothing is published or written. Each application is
decided again on the day it was first decided, so ages are what they were then. "Before" is the
decision as stored (by whichever rule set was in force), so the report shows the change people
would see, not a comparison of two rule files.
"""

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from eligibility.rules import Decision, decide
from eligibility.ruleset import RuleSet
from socialsvc_common.contract.payloads import (
    Applicant,
    ApplicationReceived,
    Outcome,
    ProvisionType,
    RuleResult,
    TargetGroup,
)

# The rules read only the applicant's birth date, and the stored facts keep no name, FIN or phone.
# The placeholder is built without validation: it must not fail on rules about identity (district
# spellings, phone formats) that the decision never reads.
PLACEHOLDER_APPLICANT = Applicant.model_construct(
    fin="0000000",
    first_name="-",
    last_name="-",
    birth_date=date(2000, 1, 1),
    mobile_phone="+994000000000",
    district="-",
)
REPLAYED_AT = datetime(2000, 1, 1, tzinfo=UTC)  # never read by the rules: they take `today`

Verdict = tuple[bool, str | None]  # a rule's result: passed, and the reason key when it failed


@dataclass(frozen=True, slots=True)
class StoredApplication:
    application_id: UUID
    district: str
    decided_on: date
    facts: Mapping[str, Any]  # service_requested, circumstances, birth_date (JSON values)
    outcome: Outcome
    rule_set_version: str
    groups: tuple[TargetGroup, ...]
    first_provision: ProvisionType | None
    verdicts: Mapping[str, Verdict]  # by rule name


@dataclass(frozen=True, slots=True)
class RuleVerdict:
    passed: bool
    reason: str | None


@dataclass(frozen=True, slots=True)
class RuleChange:
    rule: str
    before: RuleVerdict | None  # None: the rule was not evaluated on that side
    after: RuleVerdict | None


@dataclass(frozen=True, slots=True)
class Move:
    application_id: UUID
    district: str
    before: Outcome
    after: Outcome
    changed_rules: tuple[RuleChange, ...]


@dataclass(frozen=True, slots=True)
class Shift:
    before: int
    after: int
    change: int


@dataclass(frozen=True, slots=True)
class PlacesNeeded:
    """Eligible people whose first-ranked direction is this one, before and after."""

    before: int
    after: int
    change: int
    free_places: int | None  # None: capacity unknown
    short_by: int | None  # places the increase needs beyond the free ones


@dataclass(frozen=True)
class SimulationReport:
    candidate_version: str
    applications: int
    decided_by: dict[str, int]  # stored decisions by the rule set version that made them
    by_outcome: dict[Outcome, Shift]
    by_group: dict[TargetGroup, dict[Outcome, Shift]]
    by_district: dict[str, dict[Outcome, Shift]]
    places: dict[ProvisionType, PlacesNeeded]
    movers: list[Move]


def stored_application(
    application_id: UUID,
    district: str,
    decided_on: date,
    facts: Mapping[str, Any],
    decision: Mapping[str, Any],
) -> StoredApplication:
    """A stored application from the columns of its row; `decision` is the DecisionMade JSON."""
    provision_types = decision.get("provision_types") or []
    return StoredApplication(
        application_id=application_id,
        district=district,
        decided_on=decided_on,
        facts=facts,
        outcome=Outcome(decision["outcome"]),
        rule_set_version=decision["rule_set_version"],
        groups=tuple(TargetGroup(group) for group in decision.get("groups", ())),
        first_provision=ProvisionType(provision_types[0]) if provision_types else None,
        verdicts={r["rule"]: (r["passed"], r.get("reason")) for r in decision.get("rules", ())},
    )


def replayed(stored: StoredApplication) -> ApplicationReceived:
    # Circumstances are validated (~3 µs, faster than model_construct on pydantic 2.14, and old
    # facts get the current defaults); the placeholder applicant is copied, not validated.
    facts = stored.facts
    birth_date = date.fromisoformat(facts["birth_date"])
    applicant = PLACEHOLDER_APPLICANT.model_copy(update={"birth_date": birth_date})
    return ApplicationReceived.model_validate(
        {
            "application_id": stored.application_id,
            "submitted_at": REPLAYED_AT,
            "channel": "simulation",
            "service_requested": facts["service_requested"],
            "applicant": applicant,
            "circumstances": facts["circumstances"],
        }
    )


class Simulation:
    """Replays batches of stored applications as they are read, keeping only counts and movers."""

    def __init__(
        self, candidate: RuleSet, free_places: Mapping[ProvisionType, int] | None = None
    ) -> None:
        self._candidate = candidate
        self._free_places = free_places
        self._before: Counter[Hashable] = Counter()
        self._after: Counter[Hashable] = Counter()
        self._versions: Counter[str] = Counter()
        self._movers: list[Move] = []

    def replay(self, stored: Iterable[StoredApplication]) -> None:
        for application in stored:
            self._replay_one(application)

    def _replay_one(self, application: StoredApplication) -> None:
        decision = decide(replayed(application), self._candidate, application.decided_on)
        district = application.district
        self._versions[application.rule_set_version] += 1
        first = application.first_provision
        _tally(self._before, application.outcome, application.groups, district, first)
        first = decision.provision_types[0] if decision.provision_types else None
        _tally(self._after, decision.outcome, decision.groups, district, first)
        if decision.outcome is not application.outcome:
            self._movers.append(_move(application, decision))

    def report(self) -> SimulationReport:
        groups, districts = self._seen("group"), self._seen("district")
        return SimulationReport(
            candidate_version=self._candidate.version,
            applications=self._versions.total(),
            decided_by=dict(sorted(self._versions.items())),
            by_outcome={outcome: self._shift("outcome", outcome) for outcome in Outcome},
            by_group={g: self._by_outcome("group", g) for g in TargetGroup if g in groups},
            by_district={d: self._by_outcome("district", d) for d in sorted(districts)},
            places={kind: self._places(kind) for kind in ProvisionType},
            movers=list(self._movers),
        )

    def _shift(self, *key: Hashable) -> Shift:
        before, after = self._before[key], self._after[key]
        return Shift(before=before, after=after, change=after - before)

    def _by_outcome(self, dimension: str, value: Hashable) -> dict[Outcome, Shift]:
        return {outcome: self._shift(dimension, value, outcome) for outcome in Outcome}

    def _seen(self, dimension: str) -> set[Any]:
        keys = self._before.keys() | self._after.keys()
        return {key[1] for key in keys if isinstance(key, tuple) and key[0] == dimension}

    def _places(self, kind: ProvisionType) -> PlacesNeeded:
        shift = self._shift("places", kind)
        free = None if self._free_places is None else self._free_places.get(kind, 0)
        short = None if free is None else max(0, shift.change - free)
        return PlacesNeeded(shift.before, shift.after, shift.change, free, short)


def simulate(
    stored: Iterable[StoredApplication],
    candidate: RuleSet,
    free_places: Mapping[ProvisionType, int] | None = None,
) -> SimulationReport:
    """The stored applications decided by `candidate`; `free_places`: capacity less use."""
    simulation = Simulation(candidate, free_places)
    simulation.replay(stored)
    return simulation.report()


def _tally(
    counts: Counter[Hashable],
    outcome: Outcome,
    groups: Iterable[TargetGroup],
    district: str,
    first: ProvisionType | None,
) -> None:
    counts["outcome", outcome] += 1
    counts["district", district, outcome] += 1
    for group in groups:
        counts["group", group, outcome] += 1
    if outcome is Outcome.ELIGIBLE and first is not None:
        counts["places", first] += 1


def _move(application: StoredApplication, decision: Decision) -> Move:
    why = changed_rules(application.verdicts, decision.rules)
    return Move(
        application.application_id, application.district, application.outcome, decision.outcome, why
    )


def changed_rules(
    before: Mapping[str, Verdict], after: Iterable[RuleResult]
) -> tuple[RuleChange, ...]:
    """The rules whose result (passed, reason) differs, in the order the decisions list them."""
    now: dict[str, Verdict] = {
        str(r.rule): (r.passed, None if r.reason is None else str(r.reason)) for r in after
    }
    names = [*before, *(name for name in now if name not in before)]
    pairs = [(name, before.get(name), now.get(name)) for name in names]
    return tuple(
        RuleChange(name, RuleVerdict(*was) if was else None, RuleVerdict(*new) if new else None)
        for name, was, new in pairs
        if was != new
    )
