"""How many people a rule set would reach proactively from a year of life events (issue 21): each
event pre-screened as eligibility does it live, counted by kind and direction, under the rule set
in force and under a candidate.

`synthetic_year` makes a year of life events to try rule sets on before a registry's real
extract is at hand. Its sizes are assumptions, set out in YEAR below, not official statistics.
"""

import random
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from eligibility.prescreen import prescreen
from eligibility.ruleset import RuleSet
from socialsvc_common.contract.payloads import (
    REGISTRY_KINDS,
    Applicant,
    LifeEventKind,
    LifeEventRecorded,
    Prescreen,
)
from socialsvc_common.geography import load_geography

# Life events a year, by kind: about 120,000 people turn 65 a year in a population of ten million,
# one in ten of them living alone; some 400 young people leave state children's institutions;
# some 9,000 are released from penitentiary institutions; some 50,000 disabilities are newly
# determined, groups 1, 2 and 3 about 10, 35 and 55 in a hundred.
YEAR: dict[LifeEventKind, int] = {
    LifeEventKind.TURNED_65_LIVING_ALONE: 12_000,
    LifeEventKind.LEFT_CHILDREN_INSTITUTION: 400,
    LifeEventKind.RELEASED_FROM_PENITENTIARY: 9_000,
    LifeEventKind.DISABILITY_DETERMINED: 50_000,
}
DISABILITY_GROUPS = ((1, 10), (2, 35), (3, 55))
REGISTRY_OF = {kind: registry for registry, kind in REGISTRY_KINDS.items()}


@dataclass
class Reach:
    """What one rule set does with the events: per kind, how many, how many likely, and the
    directions named for them."""

    rule_set_version: str
    events: Counter[LifeEventKind] = field(default_factory=Counter)
    likely: Counter[LifeEventKind] = field(default_factory=Counter)
    directions: Counter[tuple[LifeEventKind, str]] = field(default_factory=Counter)

    def add(self, event: LifeEventRecorded, rule_set: RuleSet, today: date) -> None:
        screened = prescreen(event, rule_set, today)
        self.events[event.kind] += 1
        if screened.outcome is Prescreen.LIKELY:
            self.likely[event.kind] += 1
            for kind in screened.provision_types:
                self.directions[event.kind, kind.value] += 1

    def as_dict(self) -> dict[str, object]:
        return {
            "rule_set_version": self.rule_set_version,
            "kinds": {
                kind.value: {
                    "events": self.events[kind],
                    "likely": self.likely[kind],
                    "directions": {
                        direction: n for (k, direction), n in self.directions.items() if k is kind
                    },
                }
                for kind in LifeEventKind
                if self.events[kind]
            },
            "events": sum(self.events.values()),
            "likely": sum(self.likely.values()),
        }


def reach(events: Iterable[LifeEventRecorded], rule_set: RuleSet, today: date) -> Reach:
    found = Reach(rule_set.version)
    for event in events:
        found.add(event, rule_set, today)
    return found


def synthetic_year(
    year_ending: date, seed: int = 21, sizes: Mapping[LifeEventKind, int] = YEAR
) -> Iterator[LifeEventRecorded]:
    """A year of life events up to `year_ending`, `sizes` of each kind, the same for the same
    seed: spread over the days and the districts evenly, the people's ages as each kind has
    them."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible sample, not a secret
    districts = load_geography().units()
    for kind, count in sizes.items():
        for index in range(count):
            occurred_on = year_ending - timedelta(days=rng.randrange(365))
            born = _birth_date(kind, occurred_on, rng)
            group = _disability_group(rng) if kind is LifeEventKind.DISABILITY_DETERMINED else None
            yield LifeEventRecorded(
                registry=REGISTRY_OF[kind],
                reference=f"Y{year_ending.year}-{kind.value[:3]}-{index:06d}",
                kind=kind,
                occurred_on=occurred_on,
                person=Applicant.model_construct(
                    fin="0000000",
                    first_name="-",
                    last_name="-",
                    birth_date=born,
                    mobile_phone="+994000000000",
                    district=rng.choice(districts),
                ),
                lives_alone=True if kind is LifeEventKind.TURNED_65_LIVING_ALONE else None,
                disability_group=group,
            )


def _birth_date(kind: LifeEventKind, on: date, rng: random.Random) -> date:
    match kind:
        case LifeEventKind.TURNED_65_LIVING_ALONE:
            age = 65
        case LifeEventKind.LEFT_CHILDREN_INSTITUTION:
            age = 18
        case LifeEventKind.RELEASED_FROM_PENITENTIARY:
            age = rng.randint(19, 70)
        case LifeEventKind.DISABILITY_DETERMINED:
            age = rng.randint(0, 90)
    # The 28th at most: there is no 29 February in most years.
    return date(on.year - age, on.month, min(on.day, 28)) - timedelta(days=rng.randrange(1, 300))


def _disability_group(rng: random.Random) -> int:
    groups, weights = zip(*DISABILITY_GROUPS, strict=True)
    return rng.choices(groups, weights=weights)[0]
