"""Realistic, mixed application forms: every target group, every district and city of the
geography, the three languages, with and without e-mail; each with a FIN of its own, so intake's
one-open-application-per-person rule never refuses one."""

import random
import string
from datetime import date
from typing import Any

from socialsvc_common.geography import load_geography

LANGUAGES = ("az", "az", "az", "ru", "en")  # most citizens write in Azerbaijani
ACTIVITIES = (
    "washing",
    "dressing",
    "eating",
    "moving_about",
    "toilet",
    "housework",
    "shopping",
    "medication",
)
FIRST_NAMES = ("Leyla", "Əli", "Günay", "Rəşad", "Sevinc", "Tural", "Nigar", "Elvin", "Aysel")
LAST_NAMES = ("Əliyeva", "Məmmədov", "Hüseynova", "Quliyev", "Həsənova", "İsmayılov")


def circumstances(kind: int, rng: random.Random) -> tuple[str, date, dict[str, Any]]:
    """(service requested, birth date, circumstances) of one of ten profiles: each target group,
    an ineligible household and one that needs more information."""
    activities = rng.sample(ACTIVITIES, rng.randint(2, 6))
    income = str(rng.randint(50, 250))
    profiles: list[tuple[str, date, dict[str, Any]]] = [
        (
            "home_care",
            date(1944, 5, 17),
            {"lives_alone": True, "activities_needing_help": activities},
        ),
        (
            "residential",
            date(1938, 1, 9),
            {"lives_alone": True, "activities_needing_help": activities},
        ),
        (
            "any",
            date(1981, 2, 2),
            {"disability_group": rng.randint(1, 2), "activities_needing_help": activities},
        ),
        ("ngo_project", date(2017, 9, 9), {"child_with_disability": True, "household_size": 4}),
        ("any", date(1997, 1, 30), {"trafficking_victim": True}),
        ("any", date(1990, 7, 4), {"domestic_violence_victim": True, "household_size": 3}),
        ("any", date(1974, 3, 3), {"released_from_prison": True}),
        ("any", date(2006, 6, 6), {"children_institution_graduate": True}),
        ("any", date(1985, 8, 8), {"household_size": 5, "monthly_household_income_azn": income}),
        ("any", date(1992, 12, 12), {"household_size": 2, "monthly_household_income_azn": "2500"}),
        ("any", date(1987, 4, 1), {"household_size": 4}),
    ]
    return profiles[kind % len(profiles)]


class FormMaker:
    """Makes form number n of a run; the same seed gives the same forms."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._districts = load_geography().units()
        self._fins: set[str] = set()

    def fin(self) -> str:
        while True:
            body = "".join(self._rng.choices(string.digits + string.ascii_uppercase, k=5))
            candidate = (
                self._rng.choice(string.digits) + body + self._rng.choice(string.ascii_uppercase)
            )
            if candidate not in self._fins:
                self._fins.add(candidate)
                return candidate

    def form(self, index: int) -> dict[str, Any]:
        rng = self._rng
        service, born, facts = circumstances(index, rng)
        return {
            "service_requested": service,
            "consent_to_processing": True,
            "applicant": {
                "fin": self.fin(),
                "first_name": rng.choice(FIRST_NAMES),
                "last_name": rng.choice(LAST_NAMES),
                "birth_date": born.isoformat(),
                "mobile_phone": f"+99450{rng.randint(1_000_000, 9_999_999)}",
                "email": f"citizen{index}@example.az" if index % 5 == 0 else None,
                "language": LANGUAGES[index % len(LANGUAGES)],
                "district": self._districts[index % len(self._districts)],
            },
            "circumstances": facts,
        }
