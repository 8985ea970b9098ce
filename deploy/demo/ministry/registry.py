"""The provider registry at the articles' scale, completed from what the platform already holds.

The platform ships a registry (a home-care team in every unit, 14 institutions, 28 projects of 27
NGOs); the plan keeps what is there and adds to it until the totals are the articles': 66 NGOs with
195 projects and about 10,000 places, institutions with about 1,000 places, and home-care teams
with caseloads for 15,000+ people. The home-care teams are the platform's own (their caseloads
changed by PUT); institutions and projects that are new go in one CSV import. Pure: no I/O.
"""

import csv
import io
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from deploy.demo.ministry.catalogue import (
    INSTITUTIONS,
    ORGANISATION_FORMS,
    ORGANISATION_STEMS,
    PROJECT_KINDS,
    ProjectKind,
)
from deploy.demo.ministry.places import Country, apportion, slug

CSV_COLUMNS = (
    "provision_type",
    "id",
    "name",
    "district",
    "places",
    "target_groups",
    "organisation",
    "districts",
    "capacity",
    "contract_start",
    "contract_end",
)
DEFAULT_SEED = 2019  # the year of the articles' figures
SMALLEST_PROJECT = 10
SMALLEST_TEAM = 5


@dataclass(frozen=True)
class Scale:
    """The registry's totals after the load (what exists counts towards them)."""

    organisations: int = 66
    projects: int = 195
    ngo_places: int = 10_000
    institution_places: int = 1_000
    home_care_places: int = 15_600


@dataclass(frozen=True)
class Plan:
    """What to send: each home-care team's PUT body, and the rows of the CSV import."""

    teams: list[dict[str, Any]] = field(default_factory=list)
    imported: list[dict[str, Any]] = field(default_factory=list)

    def provider_ids(self) -> list[str]:
        return [entry["id"] for entry in (*self.teams, *self.imported)]

    def csv(self) -> str:
        """The import's document: a header row, lists separated by ';'."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for entry in self.imported:
            writer.writerow(
                {k: ";".join(v) if isinstance(v, list) else v for k, v in entry.items()}
            )
        return out.getvalue()


def plan_registry(
    existing: Sequence[Mapping[str, Any]], country: Country, scale: Scale, seed: int, today: date
) -> Plan:
    """The changes that bring `existing` (GET /providers) to `scale`; the same inputs give the
    same plan, and a registry already at scale gets no new institutions or projects."""
    rng = random.Random(seed)
    by_type: dict[str, list[Mapping[str, Any]]] = {}
    for entry in existing:
        by_type.setdefault(str(entry["provision_type"]), []).append(entry)
    institutions = _institutions(by_type.get("residential", []), scale.institution_places)
    projects = _projects(by_type.get("ngo_project", []), country, scale, rng, today)
    return Plan(_teams(by_type.get("home_care", []), country, scale), institutions + projects)


def _teams(
    existing: Sequence[Mapping[str, Any]], country: Country, scale: Scale
) -> list[dict[str, Any]]:
    units = country.units()
    caseloads = apportion(
        scale.home_care_places, [country.population[u] for u in units], SMALLEST_TEAM
    )
    known = {str(e["district"]): e for e in sorted(existing, key=lambda e: str(e["id"]))[::-1]}
    teams = []
    for unit, caseload in zip(units, caseloads, strict=True):
        team = known.get(unit)
        teams.append(
            {
                "provision_type": "home_care",
                "id": str(team["id"]) if team else f"hc-{slug(unit)}",
                "name": str(team["name"]) if team else f"{unit} üzrə evdə sosial xidmət qrupu",
                "district": unit,
                "caseload_limit": caseload,
            }
        )
    return teams


def _institutions(existing: Sequence[Mapping[str, Any]], target: int) -> list[dict[str, Any]]:
    known = {str(e["id"]) for e in existing}
    places = sum(int(e["capacity"]) for e in existing)
    added = []
    for institution in INSTITUTIONS:
        if places >= target:
            break
        if institution.id in known:
            continue
        size = min(institution.places, target - places)
        places += size
        added.append(
            {
                "provision_type": "residential",
                "id": institution.id,
                "name": institution.name,
                "district": institution.district,
                "places": size,
                "target_groups": list(institution.groups),
            }
        )
    return added


def _projects(
    existing: Sequence[Mapping[str, Any]],
    country: Country,
    scale: Scale,
    rng: random.Random,
    today: date,
) -> list[dict[str, Any]]:
    have = sorted({str(e["organisation"]) for e in existing})
    new_organisations = _organisation_names(max(0, scale.organisations - len(have)), set(have), rng)
    count = max(scale.projects - len(existing), len(new_organisations))
    if count == 0:
        return []
    places = max(scale.ngo_places - sum(int(e["capacity"]) for e in existing), 0)
    # Every new organisation runs one project at least; the rest go to any organisation.
    everyone = have + new_organisations
    runners = new_organisations + rng.choices(everyone, k=count - len(new_organisations))
    kinds = [k for k, n in zip(PROJECT_KINDS, _kind_counts(count), strict=True) for _ in range(n)]
    homes = [h for k in PROJECT_KINDS for h in _homes(k, kinds.count(k), country, rng)]
    weights = [
        kind.share
        * country.population[home]
        / sum(country.population[h] for h, k in zip(homes, kinds, strict=True) if k == kind)
        for kind, home in zip(kinds, homes, strict=True)
    ]
    capacities = (
        apportion(places, weights, SMALLEST_PROJECT)
        if places >= SMALLEST_PROJECT * count
        else [SMALLEST_PROJECT] * count
    )
    return [
        _project(number, kind, home, runner, capacity=size, country=country, rng=rng, today=today)
        for number, (kind, home, runner, size) in enumerate(
            zip(kinds, homes, runners, capacities, strict=True), start=1
        )
    ]


def _kind_counts(count: int) -> list[int]:
    shares = [kind.share for kind in PROJECT_KINDS]
    return apportion(count, shares, 1 if count >= len(PROJECT_KINDS) else 0)


def _homes(kind: ProjectKind, count: int, country: Country, rng: random.Random) -> list[str]:
    """Where each of a kind's projects is: regions by population, a district within by it too."""
    if count == 0:
        return []
    regions = country.regions()
    per_region = apportion(count, [country.weight_of_region(r) for r in regions])
    homes = []
    for region, n in zip(regions, per_region, strict=True):
        units = country.units_of(region)
        homes += rng.choices(units, weights=[country.population[u] for u in units], k=n)
    return homes


def _project(
    number: int,
    kind: ProjectKind,
    home: str,
    organisation: str,
    *,
    capacity: int,
    country: Country,
    rng: random.Random,
    today: date,
) -> dict[str, Any]:
    region = country.geography.region_of(home)
    neighbours = [u for u in country.units_of(region) if u != home]
    served = [home, *rng.sample(neighbours, min(len(neighbours), rng.randint(0, 2)))]
    start = _months_before(today, rng.randint(1, 24))
    months = rng.choice((12, 24, 36))
    while _months_after(start, months) <= today:
        months += 12
    return {
        "provision_type": "ngo_project",
        "id": f"sifaris-{number:03d}-{kind.code}-{slug(home)}",
        "name": f"{kind.name} ({home})",
        "organisation": organisation,
        "districts": served,
        "capacity": capacity,
        "target_groups": list(kind.groups),
        "contract_start": start.isoformat(),
        "contract_end": (_months_after(start, months) - timedelta(days=1)).isoformat(),
    }


def _organisation_names(count: int, taken: set[str], rng: random.Random) -> list[str]:
    names = [f'"{stem}" {form}' for stem in ORGANISATION_STEMS for form in ORGANISATION_FORMS]
    free = [n for n in names if n not in taken]
    if count > len(free):
        raise ValueError(f"only {len(free)} organisation names are left; {count} asked for")
    return sorted(rng.sample(free, count))


def _months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _months_after(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
