"""The demo's synthetic people: application forms across the three directions and every target
group, in the mix the articles describe (mostly elderly people living alone, cared for at home;
children with disabilities in NGO projects; a few victims and people released from prison),
spread over the country by population, in the three languages. Pure: no I/O.

Birth dates count from the first of January of the year given, so the forms of one seed stay the
same all year and a run repeated sends the same forms under the same Idempotency-Keys.
"""

import random
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from deploy.demo.ministry.catalogue import FAMILY_NAMES, FEMALE_NAMES, MALE_NAMES
from deploy.demo.ministry.places import Country, apportion
from socialsvc_common.contract.payloads import DailyActivity

ACTIVITIES = tuple(activity.value for activity in DailyActivity)
# Together 12 points of the rule set's dependency score: need level 3.
HEAVY = ("washing", "eating", "toilet", "moving_about")
LANGUAGES = ("az", "ru", "en")
LANGUAGE_WEIGHTS = (80, 15, 5)
OPERATORS = ("50", "51", "55", "70", "77", "99", "10")
Facts = Callable[[random.Random], dict[str, Any]]


@dataclass(frozen=True)
class Profile:
    """One kind of person: what they ask for, how old they are, their circumstances, and where
    the rules should send them (`direction`: a provision type, `refused` or `needs_information`)."""

    name: str
    share: float
    service: str
    ages: tuple[int, int]
    facts: Facts
    direction: str


@dataclass(frozen=True)
class Person:
    number: int
    profile: Profile
    form: dict[str, Any]

    def idempotency_key(self, seed: int) -> str:
        return f"ministry-demo-{seed}-{self.number}"


def _needs(rng: random.Random, least: int = 2, most: int = 5) -> list[str]:
    return rng.sample(ACTIVITIES, rng.randint(least, most))


def _heavy(rng: random.Random, extra: int) -> list[str]:
    others = [a for a in ACTIVITIES if a not in HEAVY]
    return [*HEAVY, *rng.sample(others, extra)]


def _family_income(
    rng: random.Random, sizes: tuple[int, int], per_member: tuple[int, int]
) -> dict[str, Any]:
    size = rng.randint(*sizes)
    return {
        "household_size": size,
        "monthly_household_income_azn": str(rng.randint(*per_member) * size),
    }


def _household(rng: random.Random, least: int, most: int) -> int:
    return rng.randint(least, most)


PROFILES = (
    Profile(
        "elderly_alone_at_home",
        0.37,
        "home_care",
        (66, 94),
        lambda r: {"lives_alone": True, "activities_needing_help": _needs(r)},
        "home_care",
    ),
    Profile(
        "elderly_with_family_at_home",
        0.09,
        "home_care",
        (66, 92),
        lambda r: {"household_size": _household(r, 2, 4), "activities_needing_help": _needs(r)},
        "home_care",
    ),
    Profile(
        "adult_with_disability_at_home",
        0.08,
        "home_care",
        (19, 63),
        lambda r: {
            "disability_group": r.randint(1, 3),
            "lives_alone": r.random() < 0.3,
            "activities_needing_help": _needs(r),
        },
        "home_care",
    ),
    Profile(
        "elderly_alone_in_institution",
        0.03,
        "residential",
        (75, 94),
        lambda r: {"lives_alone": True, "activities_needing_help": _heavy(r, r.randint(0, 2))},
        "residential",
    ),
    Profile(
        "adult_with_disability_in_institution",
        0.01,
        "residential",
        (25, 63),
        lambda r: {
            "disability_group": 1,
            "lives_alone": True,
            "activities_needing_help": _heavy(r, r.randint(1, 3)),
        },
        "residential",
    ),
    Profile(
        "child_with_disability",
        0.23,
        "ngo_project",
        (1, 16),
        lambda r: {"child_with_disability": True, "household_size": _household(r, 3, 6)},
        "ngo_project",
    ),
    Profile(
        "low_income_family",
        0.06,
        "ngo_project",
        (24, 55),
        lambda r: _family_income(r, (3, 7), (60, 280)),
        "ngo_project",
    ),
    Profile(
        "domestic_violence_victim",
        0.025,
        "any",
        (20, 50),
        lambda r: {"domestic_violence_victim": True, "household_size": _household(r, 1, 4)},
        "ngo_project",
    ),
    Profile(
        "trafficking_victim",
        0.005,
        "any",
        (19, 40),
        lambda r: {"trafficking_victim": True},
        "ngo_project",
    ),
    Profile(
        "released_from_prison",
        0.02,
        "any",
        (22, 60),
        lambda r: {"released_from_prison": True},
        "ngo_project",
    ),
    Profile(
        "institution_graduate",
        0.015,
        "any",
        (19, 22),
        lambda r: {"children_institution_graduate": True},
        "ngo_project",
    ),
    Profile(
        "household_above_need_criterion",
        0.04,
        "any",
        (26, 60),
        lambda r: _family_income(r, (2, 5), (600, 2000)),
        "refused",
    ),
    Profile(
        "income_not_stated",
        0.025,
        "any",
        (30, 55),
        lambda r: {"household_size": _household(r, 2, 6)},
        "needs_information",
    ),
)


class People:
    """The forms of one seed, in a shuffled but fixed order; FINs unique within the seed."""

    def __init__(self, country: Country, seed: int, year: int) -> None:
        self._country = country
        self._seed = seed
        self._reference = date(year, 1, 1)
        self._units = country.units()
        self._weights = [country.population[u] for u in self._units]

    def __call__(self, count: int) -> Iterator[Person]:
        rng = random.Random(f"people-{self._seed}")
        minimum = 1 if count >= len(PROFILES) else 0
        counts = apportion(count, [p.share for p in PROFILES], minimum)
        profiles = [p for p, n in zip(PROFILES, counts, strict=True) for _ in range(n)]
        rng.shuffle(profiles)
        fins: set[str] = set()
        for number, profile in enumerate(profiles, start=1):
            yield Person(number, profile, self._form(number, profile, rng, fins))

    def _form(
        self, number: int, profile: Profile, rng: random.Random, fins: set[str]
    ) -> dict[str, Any]:
        woman = rng.random() < (0.62 if profile.ages[0] >= 66 else 0.5)
        family = rng.choice(FAMILY_NAMES)
        father = rng.choice(MALE_NAMES)
        language = rng.choices(LANGUAGES, weights=LANGUAGE_WEIGHTS)[0]
        applicant: dict[str, Any] = {
            "fin": _fin(rng, fins),
            "first_name": rng.choice(FEMALE_NAMES if woman else MALE_NAMES),
            "last_name": f"{family}a" if woman else family,
            "patronymic": f"{father} {'qızı' if woman else 'oğlu'}",
            "birth_date": self._born(rng.randint(*profile.ages), rng).isoformat(),
            "mobile_phone": f"+994{rng.choice(OPERATORS)}{rng.randint(2_000_000, 9_999_999)}",
            "language": language,
            "district": rng.choices(self._units, weights=self._weights)[0],
        }
        if rng.random() < 0.15:
            applicant["email"] = f"vetendas{self._seed}.{number}@example.az"
        return {
            "service_requested": profile.service,
            "consent_to_processing": True,
            "consent_language": language,
            "applicant": applicant,
            "circumstances": profile.facts(rng),
        }

    def _born(self, age: int, rng: random.Random) -> date:
        # Full years `age` on the reference day: born within the year before it, that many back.
        latest = self._reference - timedelta(days=1)
        try:
            latest = latest.replace(year=latest.year - age)
        except ValueError:  # 29 February in a common year
            latest = latest.replace(year=latest.year - age, day=28)
        return latest - timedelta(days=rng.randint(0, 363))


def _fin(rng: random.Random, taken: set[str]) -> str:
    # A digit first and a letter last, as real ones have; never one given twice in a run.
    while True:
        body = "".join(rng.choices(string.digits + string.ascii_uppercase, k=5))
        fin = rng.choice(string.digits) + body + rng.choice(string.ascii_uppercase)
        if fin not in taken:
            taken.add(fin)
            return fin
