"""A statistics service's answer as issue 19's contract shapes it, for the workspace's page tests:
every section, realistic figures, and withheld cells (null, named in `suppressed`) in several."""

from typing import Any

SECTION_IDS = (
    "served_by_direction",
    "served_by_region",
    "served_by_district",
    "served_by_group",
    "served_by_age_band",
    "served_by_month",
    "served_by_organisation",
    "served_by_provider",
    "applications_by_outcome",
    "applications_by_month",
    "refusals_by_reason",
    "waiting",
    "offers",
    "time_to_service",
    "messages",
    "appeals",
    "ngo_projects",
    "proactive_by_kind",
    "proactive_by_district",
)


def row(keys: dict[str, str | None], **values: Any) -> dict[str, Any]:
    """A row; a value given as None is withheld."""
    withheld = [m for m, v in values.items() if v is None]
    return {"keys": keys, "values": values, "suppressed": withheld}


def section(
    section_id: str,
    dimensions: list[str],
    measures: list[str],
    rows: list[dict[str, Any]],
    total: dict[str, Any] | None = None,
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": section_id,
        "dimensions": dimensions,
        "measures": measures,
        "rows": rows,
    }
    if total is not None:
        withheld = [m for m, v in total.items() if v is None]
        found["total"] = {"values": total, "suppressed": withheld}
    return found


def by(dimension: str, measure: str, counts: dict[str, int | None]) -> list[dict[str, Any]]:
    return [row({dimension: key}, **{measure: value}) for key, value in counts.items()]


def months(first: int, counts: list[int]) -> dict[str, int | None]:
    return {f"2026-{first + i:02d}": n for i, n in enumerate(counts)}


FUNNEL = ["life_events", "likely", "offered", "accepted", "declined", "lapsed", "placed"]


def funnel(dimension: str, key: str, *counts: int | None) -> dict[str, Any]:
    """A row of the funnel of proactive services: its counts in FUNNEL's order."""
    return row({dimension: key}, **dict(zip(FUNNEL, counts, strict=True)))


NGO = [
    ("ngo-umid-1", "Ümid QHT", "Ümid gündüz mərkəzi", 60, 52, 86.7),
    ("ngo-umid-2", "Ümid QHT", "Ümid evdə dəstək", 40, 31, 77.5),
    ("ngo-heyat-1", "Həyat İctimai Birliyi", "Həyat reabilitasiya", 25, None, None),
    ("ngo-gunes-1", "Günəş", "Günəş uşaq mərkəzi", 80, 71, 88.8),
]


def figures(k: int = 5) -> dict[str, Any]:
    """The answer: 20,104 people in service in 2026, a few cells withheld."""
    people = "people"
    sections = [
        section(
            "served_by_direction",
            ["direction"],
            [people],
            by("direction", people, {"home_care": 15210, "ngo_project": 3912, "residential": 982}),
            {people: 20104},
        ),
        section(
            "served_by_region",
            ["region"],
            [people],
            by("region", people, {"Bakı": 7321, "Gəncə–Daşkəsən": 2110, "Şərqi Zəngəzur": None}),
            {people: 20104},
        ),
        section(
            "served_by_district",
            ["district"],
            [people],
            by("district", people, {"Xətai": 1204, "Nəsimi": 998, "Laçın": None, "Qubadlı": 7}),
            {people: 20104},
        ),
        section(
            "served_by_group",
            ["group"],
            [people],
            by(
                "group",
                people,
                {"elderly": 11020, "disability": 5230, "protected": 41, "low_income_family": 3},
            ),
        ),
        section(
            "served_by_age_band",
            ["age_band"],
            [people],
            by("age_band", people, {"0-17": 1290, "18-34": 1702, "35-64": 4310, "80+": 5120}),
        ),
        section(
            "served_by_month",
            ["month"],
            [people],
            by("month", people, months(1, [1510, 1620, 1702, 1688, 1730, 1802])),
        ),
        section(
            "served_by_organisation",
            ["organisation"],
            [people, "projects"],
            [
                row({"organisation": "Ümid QHT"}, people=83, projects=2),
                row({"organisation": "Həyat İctimai Birliyi"}, people=None, projects=1),
            ],
        ),
        section(
            "served_by_provider",
            ["provider"],
            [people],
            by("provider", people, {"ngo-umid-1": 52, "team-xetai": 640, "ngo-heyat-1": None}),
        ),
        section(
            "applications_by_outcome",
            ["outcome"],
            ["applications"],
            by(
                "outcome",
                "applications",
                {"eligible": 20310, "ineligible": 1402, "needs_information": 512, "undecided": 0},
            ),
            {"applications": 22224},
        ),
        section(
            "applications_by_month",
            ["month"],
            ["applications"],
            by("month", "applications", months(1, [3510, 3602, 3720])),
        ),
        section(
            "refusals_by_reason",
            ["reason"],
            ["applications"],
            by(
                "reason",
                "applications",
                {
                    "no_target_group": 702,
                    "income_above_need_criterion": 510,
                    "not_living_alone": None,
                },
            ),
        ),
        section(
            "waiting",
            ["direction"],
            ["waiting_now", "waited_median_days", "waited_p90_days"],
            [
                row(
                    {"direction": "residential"},
                    waiting_now=214,
                    waited_median_days=38.5,
                    waited_p90_days=121,
                ),
                row(
                    {"direction": "ngo_project"},
                    waiting_now=None,
                    waited_median_days=None,
                    waited_p90_days=None,
                ),
            ],
        ),
        section(
            "offers",
            ["result"],
            ["offers"],
            by("result", "offers", {"accepted": 19020, "declined": 812, "lapsed": 140, "open": 88}),
            {"offers": 20060},
        ),
        section(
            "time_to_service",
            ["direction"],
            [people, "median_days", "p90_days"],
            [
                row({"direction": "home_care"}, people=15210, median_days=9, p90_days=21),
                row({"direction": "residential"}, people=982, median_days=44.5, p90_days=130),
            ],
        ),
        section(
            "messages",
            ["channel", "language"],
            ["delivered", "failed"],
            [
                row({"channel": "sms", "language": "az"}, delivered=40210, failed=312),
                row({"channel": "email", "language": "ru"}, delivered=2210, failed=None),
                row({"channel": "egov_inbox", "language": "en"}, delivered=None, failed=0),
            ],
        ),
        section(
            "appeals",
            ["result"],
            ["appeals", "overdue"],
            [
                row({"result": "pending"}, appeals=41, overdue=None),
                row({"result": "upheld"}, appeals=120, overdue=6),
                row({"result": "overturned"}, appeals=33, overdue=0),
            ],
        ),
        section(
            "ngo_projects",
            ["provider"],
            ["capacity", "in_service", "fill_percent", "contract_start", "contract_end"],
            [
                {
                    "keys": {"provider": pid, "organisation": org, "name": name},
                    "values": {
                        "capacity": cap,
                        "in_service": used,
                        "fill_percent": fill,
                        "contract_start": "2026-01-01",
                        "contract_end": "2027-06-30",
                    },
                    "suppressed": ["in_service"] if used is None else [],
                }
                for pid, org, name, cap, used, fill in NGO
            ],
        ),
        section(
            "proactive_by_kind",
            ["kind"],
            FUNNEL,
            [
                funnel("kind", "turned_65_living_alone", 3120, 3120, 3050, 2210, 402, 260, 1980),
                funnel("kind", "left_children_institution", 96, 96, 96, 61, 20, 15, 44),
                funnel("kind", "released_from_penitentiary", 2410, 2310, 2290, 1320, 610, 340, 910),
                funnel("kind", "disability_determined", 8040, 8040, 7990, 6120, None, 11, 5730),
            ],
            dict(zip(FUNNEL, [13666, 13566, 13426, 9711, 1035, 626, 8664], strict=True)),
        ),
        section(
            "proactive_by_district",
            ["district"],
            FUNNEL,
            [
                funnel("district", "Xətai", 410, 402, 399, 301, 52, 40, 266),
                funnel("district", "Laçın", 6, None, None, None, 0, 0, None),
            ],
            dict(zip(FUNNEL, [13666, 13566, 13426, 9711, 1035, 626, 8664], strict=True)),
        ),
    ]
    assert tuple(s["id"] for s in sections) == SECTION_IDS
    return {
        "filters": {
            "from": "2026-01",
            "to": "2026-12",
            "region": None,
            "district": None,
            "group": None,
            "direction": None,
        },
        "policy": {"version": "2026-1", "min_cell": k},
        "as_of": "2026-12-06T10:00:00Z",
        "sections": sections,
    }


def dimensions() -> dict[str, Any]:
    return {
        "regions": [
            {"name": "Bakı", "districts": ["Nəsimi", "Xətai"]},
            {"name": "Gəncə–Daşkəsən", "districts": ["Gəncə", "Daşkəsən"]},
        ],
        "groups": ["elderly", "disability", "trafficking_victim"],
        "directions": ["home_care", "residential", "ngo_project"],
        "months": ["2026-01", "2026-02", "2026-03", "2026-12"],
    }
