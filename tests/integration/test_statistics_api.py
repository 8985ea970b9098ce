"""The statistics API on a real database (PostgreSQL, and SQLite as `make run` uses): the read
model fed through the service's own consumer, in a shuffled order and twice, then every section,
filter, refusal and export checked against the stories told, with k=1 (raw counts) and with the
platform's k=5 (small cells withheld in the answer, the CSV and the workbook)."""

import csv
import io
import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from uuid import uuid4
from xml.etree import ElementTree

import httpx
import pytest

from socialsvc_common.apikeys import Role, issue
from socialsvc_common.contract.appeals import AppealStatus
from socialsvc_common.contract.payloads import (
    Channel,
    ConsentPurpose,
    Outcome,
    ProvisionType,
    ReleaseReason,
    ServiceRequested,
    TargetGroup,
)
from socialsvc_common.geography import load_geography
from socialsvc_common.service import Runtime
from tests.harness import migrate
from tests.integration.statistics_rig import (
    PERIOD,
    Person,
    figures,
    project,
    raw_and_safe,
    section,
    shuffled_twice,
    statistics_app,
    values,
)

pytestmark = pytest.mark.integration
HOME, NGO, HOMES = ProvisionType.HOME_CARE, ProvisionType.NGO_PROJECT, ProvisionType.RESIDENTIAL
ELDERLY, VICTIM = TargetGroup.ELDERLY, TargetGroup.TRAFFICKING_VICTIM
GANJA = load_geography().region_of("Gəncə")


def stories() -> list[Person]:
    """Nine people in service, refusals, one waiting, one undecided, offers declined and lapsed,
    messages, appeals, and two withdrawals (only one of them of the statistics purpose)."""
    people = [
        Person("Babək").received().decided(Outcome.ELIGIBLE, [ELDERLY]).served("hc-babek", HOME)
        for _ in range(6)
    ]
    people += [
        Person("Culfa", ServiceRequested.NGO_PROJECT)
        .received()
        .decided(Outcome.ELIGIBLE, [VICTIM], band=None)
        .served("ngo-a-1", NGO, days=5)
        for _ in range(2)
    ]
    people.append(
        Person("Gəncə")
        .received()
        .decided(Outcome.ELIGIBLE, [TargetGroup.DISABILITY])
        .served("res-ganja", HOMES, days=9)
    )
    people += [
        Person("Babək").received().decided(Outcome.INELIGIBLE, refused_by=reasons)
        for reasons in (["income_above_limit"], ["income_above_limit", "not_in_need"], ["x"])
    ]
    people.append(Person("Culfa").received())
    waiting = Person("Babək").received().decided(Outcome.ELIGIBLE, [ELDERLY])
    people.append(waiting.waitlisted(HOME, after=timedelta(minutes=6)))
    for reason in (ReleaseReason.DECLINED, ReleaseReason.OFFER_LAPSED):
        placement = uuid4()
        someone = Person("Babək").received().decided(Outcome.ELIGIBLE, [ELDERLY])
        someone.placed(placement, "hc-babek", HOME)
        people.append(someone.released(placement, "hc-babek", reason, after=timedelta(days=1)))
    people[0].message(Channel.SMS, delivered=True).message(Channel.SMS, delivered=True)
    people[1].message(Channel.EMAIL, delivered=False).message(
        Channel.SMS, delivered=False, final=False
    )
    people[6].appealed(AppealStatus.UPHELD).appealed(AppealStatus.OVERTURNED, overdue=True)
    people[9].appealed(None)
    people[9].withdrew(ConsentPurpose.CONTACT)
    gone = Person("Babək").received().decided(Outcome.ELIGIBLE, [ELDERLY]).served("hc-babek", HOME)
    people.append(gone.message(Channel.SMS, delivered=True).withdrew(ConsentPurpose.STATISTICS))
    return people


@pytest.fixture(params=["postgresql", "sqlite"])
async def apps(
    request: pytest.FixtureRequest,
    fresh_postgres: str,
    bootstrap: str,
    tmp_path: Path,
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Clients of the API with k=1 and with the platform's k=5, over one fed read model."""
    url = (
        fresh_postgres if request.param == "postgresql" else f"sqlite+aiosqlite:///{tmp_path}/s.db"
    )
    keys = tmp_path / "keys.jsonl"
    key = issue(keys, "figures-reader", Role.PROVIDER, provider="ngo-a-1")
    async with raw_and_safe(url, bootstrap, tmp_path, keys, key) as (raw, safe, runtime):
        await feed(runtime, stories())
        yield raw, safe


async def feed(runtime: Runtime, people: list[Person]) -> None:
    """The stories' events and two NGO projects, twice and shuffled (`shuffled_twice`)."""
    events = [event for person in people for event in person.events]
    events.append(project("ngo-a-1", "Org A", 10))
    events.append(project("ngo-b-1", "Org B", 4))
    await shuffled_twice(runtime, events)


async def test_the_figures_count_the_stories_told(
    apps: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    raw, _ = apps
    answer = await figures(raw)
    assert answer["filters"] == {
        **dict.fromkeys(["region", "district", "group", "direction"]),
        **PERIOD,
    }
    assert answer["policy"] == {"version": "test-k1", "min_cell": 1}
    assert [s["id"] for s in answer["sections"]][:3] == [
        "served_by_direction",
        "served_by_region",
        "served_by_district",
    ]
    assert values(answer, "served_by_direction", "people") == {
        "home_care": 6,
        "residential": 1,
        "ngo_project": 2,
    }
    assert section(answer, "served_by_direction")["total"] == {
        "values": {"people": 9},
        "suppressed": [],
    }
    assert values(answer, "served_by_region", "people") == {"Naxçıvan": 8, GANJA: 1}
    assert values(answer, "served_by_district", "people") == {"Babək": 6, "Culfa": 2, "Gəncə": 1}
    assert values(answer, "served_by_group", "people") == {
        "elderly": 6,
        "trafficking_victim": 2,
        "disability": 1,
    }
    assert values(answer, "served_by_age_band", "people") == {"65-79": 7, None: 2}
    assert values(answer, "served_by_month", "people") == {"2026-03": 9}
    assert values(answer, "served_by_organisation", "people") == {"Org A": 2}
    assert values(answer, "served_by_organisation", "projects") == {"Org A": 1}
    assert values(answer, "served_by_provider", "people") == {
        "hc-babek": 6,
        "ngo-a-1": 2,
        "res-ganja": 1,
    }
    assert values(answer, "applications_by_outcome", "applications") == {
        "eligible": 12,
        "ineligible": 3,
        "needs_information": 0,
        "undecided": 1,
    }
    assert values(answer, "applications_by_month", "applications") == {"2026-03": 16}
    assert values(answer, "refusals_by_reason", "applications") == {
        "income_above_limit": 2,
        "not_in_need": 1,
        "x": 1,
    }
    assert "total" not in section(answer, "refusals_by_reason")
    assert values(answer, "waiting", "waiting_now") == {
        "home_care": 1,
        "residential": 0,
        "ngo_project": 0,
    }
    assert values(answer, "offers", "offers") == {
        "accepted": 9,
        "declined": 1,
        "lapsed": 1,
        "open": 0,
    }
    assert values(answer, "time_to_service", "median_days") == {
        "home_care": 3,
        "residential": 9,
        "ngo_project": 5,
    }
    assert values(answer, "time_to_service", "p90_days") == {
        "home_care": 3,
        "residential": 9,
        "ngo_project": 5,
    }
    assert values(answer, "messages", "delivered") == {("email", "az"): 0, ("sms", "az"): 2}
    assert values(answer, "messages", "failed") == {("email", "az"): 1, ("sms", "az"): 0}
    assert values(answer, "appeals", "appeals") == {"pending": 1, "upheld": 1, "overturned": 1}
    # Overdue: answered late, or not answered and past the time limit now.
    assert values(answer, "appeals", "overdue") == {"pending": 1, "upheld": 0, "overturned": 1}
    projects = section(answer, "ngo_projects")["rows"]
    assert [row["keys"] for row in projects] == [
        {"provider": "ngo-a-1", "organisation": "Org A", "name": "Project ngo-a-1"},
        {"provider": "ngo-b-1", "organisation": "Org B", "name": "Project ngo-b-1"},
    ]
    assert projects[0]["values"] == {
        "capacity": 10,
        "in_service": 2,
        "fill_percent": 20.0,
        "contract_start": "2026-01-01",
        "contract_end": "2027-12-31",
    }


async def test_every_filter_narrows_the_figures(
    apps: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    raw, _ = apps
    region = await figures(raw, region="Naxçıvan")
    assert section(region, "served_by_direction")["total"]["values"] == {"people": 8}
    assert values(region, "served_by_region", "people") == {"Naxçıvan": 8}
    district = await figures(raw, region="Naxçıvan", district="Culfa")
    assert values(district, "served_by_district", "people") == {"Culfa": 2}
    assert values(district, "applications_by_outcome", "applications")["undecided"] == 1
    group = await figures(raw, group="elderly")
    assert values(group, "served_by_direction", "people") == {
        "home_care": 6,
        "residential": 0,
        "ngo_project": 0,
    }
    assert values(group, "waiting", "waiting_now")["home_care"] == 1
    direction = await figures(raw, direction="ngo_project")
    assert values(direction, "served_by_direction", "people") == {
        "home_care": 0,
        "residential": 0,
        "ngo_project": 2,
    }
    # Applications asked for the direction, or for any service.
    assert section(direction, "applications_by_outcome")["total"]["values"] == {"applications": 16}
    assert section(await figures(raw, direction="residential"), "ngo_projects")["rows"] == []
    before = await figures(raw, **{"from": "2025-01", "to": "2026-02"})
    assert section(before, "served_by_direction")["total"]["values"] == {"people": 0}
    assert values(before, "applications_by_month", "applications") == {}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-13"}, "from"),
        ({"to": "March"}, "to"),
        ({"from": "2026-05", "to": "2026-04"}, "from"),
        ({"region": "Atlantis"}, "region"),
        ({"district": "Narnia"}, "district"),
        ({"region": "Naxçıvan", "district": "Gəncə"}, "district"),
        ({"group": "pirates"}, "group"),
        ({"direction": "space"}, "direction"),
    ],
)
async def test_a_bad_filter_is_a_problem_naming_it(
    apps: tuple[httpx.AsyncClient, httpx.AsyncClient], query: dict[str, str], field: str
) -> None:
    raw, _ = apps
    for path in ("/statistics", "/statistics/export.csv", "/statistics/export.xlsx"):
        response = await raw.get(path, params=query)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_no_key_no_figures(apps: tuple[httpx.AsyncClient, httpx.AsyncClient]) -> None:
    raw, _ = apps
    response = await raw.get("/statistics", headers={"Authorization": ""})
    assert response.status_code == 401


async def test_small_cells_are_withheld_in_the_answer_and_both_exports(
    apps: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    _, safe = apps
    answer = await figures(safe)
    assert answer["policy"] == {"version": "2026-1", "min_cell": 5}
    rows = {row["keys"]["direction"]: row for row in section(answer, "served_by_direction")["rows"]}
    assert rows["home_care"]["values"] == {"people": 6}
    assert rows["residential"] == {
        "keys": {"direction": "residential"},
        "values": {"people": None},
        "suppressed": ["people"],
    }
    assert rows["ngo_project"]["suppressed"] == ["people"]
    # The sensitive group is merged into `protected`, itself too small to show.
    groups = values(answer, "served_by_group", "people")
    assert groups == {"elderly": 6, "disability": None, "protected": None}
    # A lone small cell beside a total takes the smallest other with it.
    outcomes = section(answer, "applications_by_outcome")
    assert {row["keys"]["outcome"]: row["values"]["applications"] for row in outcomes["rows"]} == {
        "eligible": 12,
        "ineligible": None,
        "needs_information": 0,
        "undecided": None,
    }
    assert values(answer, "time_to_service", "median_days") == {
        "home_care": 3,
        "residential": None,
        "ngo_project": None,
    }
    project_a = section(answer, "ngo_projects")["rows"][0]
    assert project_a["values"]["in_service"] is None
    assert project_a["values"]["fill_percent"] is None
    assert project_a["values"]["capacity"] == 10
    assert project_a["suppressed"] == ["in_service", "fill_percent"]
    # A filter that narrows a cell below k withholds it.
    narrowed = await figures(safe, district="Babək", group="elderly")
    assert values(narrowed, "served_by_direction", "people")["home_care"] == 6
    assert section(await figures(safe, district="Culfa"), "served_by_direction")["total"] == {
        "values": {"people": None},
        "suppressed": ["people"],
    }

    exported = await safe.get("/statistics/export.csv", params=PERIOD)
    assert exported.status_code == 200
    assert (
        exported.headers["content-disposition"]
        == 'attachment; filename="statistics-2026-01-2026-12.csv"'
    )
    lines = list(csv.reader(io.StringIO(exported.text)))
    assert ["served_by_direction", "direction=home_care", "people", "6"] in lines
    assert ["served_by_direction", "direction=residential", "people", "<5"] in lines
    assert ["served_by_direction", "total", "people", "9"] in lines
    assert ["messages", "channel=sms", "language=az", "delivered", "<5"] in lines
    people = [line for line in lines if line[0].startswith("served") and line[-2] == "people"]
    assert people
    assert not [line for line in people if line[-1] in {"1", "2", "3", "4"}]

    workbook = await safe.get("/statistics/export.xlsx", params=PERIOD)
    assert workbook.status_code == 200
    assert workbook.headers["content-disposition"].endswith(
        'filename="statistics-2026-01-2026-12.xlsx"'
    )
    sheets, strings = read_workbook(workbook.content)
    assert sheets[0] == "about"
    assert sheets[1:] == [s["id"] for s in answer["sections"]]
    assert {"<5", "policy_version", "2026-1", "min_cell", "people", "home_care", "total"} <= strings
    assert "test-k1" not in strings


def read_workbook(content: bytes) -> tuple[list[str], set[str]]:
    """The sheet names in order and the strings of a workbook, read from its XML parts."""
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        # The service's own output, not untrusted input.
        book = ElementTree.fromstring(package.read("xl/workbook.xml"))  # noqa: S314
        shared = ElementTree.fromstring(package.read("xl/sharedStrings.xml"))  # noqa: S314
    names = [sheet.attrib["name"] for sheet in book.iter(f"{main}sheet")]
    return names, {text.text or "" for text in shared.iter(f"{main}t")}


async def test_a_median_of_one_persons_several_starts_is_withheld_like_the_person(
    fresh_postgres: str, bootstrap: str, tmp_path: Path
) -> None:
    await migrate("statistics", fresh_postgres)
    keys = tmp_path / "keys.jsonl"
    key = issue(keys, "figures-reader", Role.OPERATOR)
    scraper = issue(keys, "prometheus", Role.MONITOR)
    app, runtime = statistics_app(fresh_postgres, bootstrap, api_keys_file=keys)
    one = Person("Babək").received().decided(Outcome.ELIGIBLE, [ELDERLY])
    for days in (1, 2, 3, 4, 5):
        one.served("hc-babek", HOME, days=days)
    await feed(runtime, [one])
    transport = httpx.ASGITransport(app)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://s", headers=headers) as c:
        answer = await figures(c)
        # The scraper's key, kept in Prometheus's configuration, reads no figures.
        refused = await c.get("/statistics", headers={"Authorization": f"Bearer {scraper}"})
    await runtime.engine.dispose()
    assert refused.status_code == 403
    rows = {row["keys"]["direction"]: row for row in section(answer, "time_to_service")["rows"]}
    assert rows["home_care"]["values"] == {"people": None, "median_days": None, "p90_days": None}
