"""Mixed, deterministic applications for end-to-end runs: every target group, every outcome."""

import random
import string
from datetime import date
from typing import Any

DISTRICTS = [
    "Xətai",
    "Nəsimi",
    "Sabunçu",
    "Gəncə",
    "Şəki",
    "Lənkəran",
    "Quba",
    "Qobustan",
    "Sumqayıt",
    "Şirvan",
]
LANGUAGES = ["az", "az", "ru", "en"]
ACTIVITIES = [
    "washing",
    "dressing",
    "eating",
    "moving_about",
    "toilet",
    "housework",
    "shopping",
    "medication",
]


def fin(rng: random.Random) -> str:
    # A digit and a letter in every FIN, as real ones have.
    body = "".join(rng.choices(string.digits + string.ascii_uppercase, k=5))
    return rng.choice(string.digits) + body + rng.choice(string.ascii_uppercase)


def profile(kind: int, rng: random.Random) -> tuple[str, date, dict[str, Any]]:
    """(service requested, birth date, circumstances) for one of nine profiles."""
    activities = rng.sample(ACTIVITIES, rng.randint(2, 6))
    profiles: list[tuple[str, date, dict[str, Any]]] = [
        (
            "home_care",
            date(1945, 5, 17),
            {"lives_alone": True, "activities_needing_help": activities},
        ),
        ("any", date(1980, 2, 2), {"disability_group": 1, "activities_needing_help": activities}),
        ("ngo_project", date(2018, 9, 9), {"child_with_disability": True, "household_size": 4}),
        ("any", date(1996, 1, 30), {"trafficking_victim": True}),
        ("any", date(1990, 7, 4), {"domestic_violence_victim": True, "household_size": 3}),
        ("any", date(1975, 3, 3), {"released_from_prison": True}),
        ("any", date(2006, 6, 6), {"children_institution_graduate": True}),
        ("any", date(1985, 8, 8), {"household_size": 5, "monthly_household_income_azn": "600"}),
        ("any", date(1992, 12, 12), {"household_size": 2, "monthly_household_income_azn": "2500"}),
        ("any", date(1987, 4, 1), {"household_size": 4}),
    ]
    return profiles[kind % len(profiles)]


def application(index: int, rng: random.Random) -> dict[str, Any]:
    service, born, circumstances = profile(index, rng)
    email = f"citizen{index}@example.az" if index % 5 == 0 else None
    return {
        "service_requested": service,
        "consent_to_processing": True,
        "applicant": {
            "fin": fin(rng),
            "first_name": rng.choice(["Leyla", "Əli", "Günay", "Rəşad", "Sevinc", "Tural"]),
            "last_name": rng.choice(["Əliyeva", "Məmmədov", "Hüseynova", "Quliyev"]),
            "birth_date": born.isoformat(),
            "mobile_phone": f"+99450{rng.randint(1_000_000, 9_999_999)}",
            "email": email,
            "language": LANGUAGES[index % len(LANGUAGES)],
            "district": DISTRICTS[index % len(DISTRICTS)],
        },
        "circumstances": circumstances,
    }


def mixed_applications(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [application(index, rng) for index in range(count)]
