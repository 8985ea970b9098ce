"""`make demo-statistics`, small: the loader on a real platform puts its providers, people,
appeals and the providers' answers in, through the services' APIs, which then show them."""

import asyncio
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from deploy.demo.ministry.keys import shipped_registry
from deploy.demo.ministry.places import load_country
from deploy.demo.ministry.registry import Scale, plan_registry
from socialsvc_common.apikeys import Role
from tests.e2e.conftest import Platform
from tests.harness import READ_MODELS, free_port

ROOT = Path(__file__).parents[2]
SEED = 11
SMALL = Scale(organisations=30, projects=35, ngo_places=1_500, home_care_places=3_000)
PEOPLE = 150
ROLES = (Role.ADMINISTRATOR, Role.SUBMITTER, Role.OPERATOR, Role.SOCIAL_WORKER, Role.REVIEWER)


def planned_with_keys() -> list[str]:
    """The home-care teams and NGO projects: they answer with keys of their own, while the
    institutions have none and go through the operator's route."""
    existing = shipped_registry()
    plan = plan_registry(existing, load_country(), SMALL, SEED, date.today())
    ids = {str(e["id"]) for e in (*existing, *plan.teams, *plan.imported)}
    return sorted(i for i in ids if not i.startswith("inst-"))


@pytest.fixture
def platform_read_models() -> tuple[str, ...]:
    return READ_MODELS


@pytest.fixture
def platform_keys() -> dict[str, tuple[Role, dict[str, Any]]]:
    return {
        f"demo-{provider}"[:64]: (Role.PROVIDER, {"provider": provider})
        for provider in planned_with_keys()
    }


def keys_directory(platform: Platform, directory: Path) -> Path:
    """The keys as `make run` lays them out: by role, and the providers' by id."""
    (directory / "providers").mkdir(parents=True)
    for role in ROLES:
        (directory / f"{role.value}.key").write_text(platform.keys[role])
    for name, key in platform.extra["keys"].items():
        (directory / "providers" / f"{name.removeprefix('demo-')}.key").write_text(key)
    return directory


async def test_the_loader_puts_providers_people_and_answers_in(
    platform: Platform, tmp_path: Path
) -> None:
    keys = keys_directory(platform, tmp_path / "keys")
    # Timed where the platform runs the statistics service, else said to be missing.
    statistics = platform.urls.get("statistics", f"http://127.0.0.1:{free_port()}")
    command = [
        sys.executable, "-m", "deploy.demo.ministry",
        "--people", str(PEOPLE), "--seed", str(SEED), "--concurrency", "8", "--appeals", "3",
        "--organisations", "30", "--projects", "35", "--ngo-places", "1500",
        "--home-care-places", "3000", "--quiet", "5", "--timeout", "300",
        "--settle-timeout", "120", "--repeats", "1", "--keys", str(keys),
        "--statistics", statistics,
        *(f"--{s}={platform.urls[s]}" for s in ("intake", "eligibility", "assignment")),
        f"--notifications={platform.urls['notifications']}",
    ]  # fmt: skip
    run = await asyncio.to_thread(
        subprocess.run, command, cwd=ROOT, capture_output=True, text=True, timeout=500
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert f"applications accepted {PEOPLE}," in run.stdout
    timed = f"statistics: GET {statistics}/statistics x1: first "
    missing = f"statistics: nothing answers at {statistics}/statistics"
    assert (timed if "statistics" in platform.urls else missing) in run.stdout
    for stage in ("provider registry", "applications", "appeals", "providers' answers"):
        assert f"demo-statistics: {stage} took " in run.stdout

    async with platform.client("assignment") as assignment:
        listed = (await assignment.get("/providers")).json()
        started = (await assignment.get("/placements?status=started&limit=1000")).json()
    projects = [p for p in listed if p["provision_type"] == "ngo_project"]
    places = Counter[str]()
    for provider in listed:
        places[provider["provision_type"]] += provider["capacity"]
    assert (len(projects), len({p["organisation"] for p in projects})) == (35, 30)
    assert places == {"ngo_project": 1_500, "residential": 1_000, "home_care": 3_000}

    async with platform.client("intake", Role.OPERATOR) as intake:
        found = (await intake.get("/cases", params={"limit": 200})).json()
    cases = found["items"]
    statuses = Counter(c["status"] for c in cases)
    assert found["total"] == len(cases) == PEOPLE
    assert statuses["placed"] > PEOPLE // 2
    assert statuses["ineligible"] > 0
    assert statuses["needs_information"] > 0
    assert {c["service_requested"] for c in cases} == {
        "home_care",
        "residential",
        "ngo_project",
        "any",
    }
    assert {c["district"] for c in cases} <= set(load_country().units())

    # The providers started the services with their own keys; institutions through the operator.
    actors = {p["provider_id"]: p["changed_by"] for p in started}
    assert any(a.startswith("provider:demo-hc-") for a in actors.values())
    projects_started = {p: a for p, a in actors.items() if not p.startswith(("hc-", "inst-"))}
    assert any(a.startswith("provider:demo-") for a in projects_started.values())
    assert all(a.startswith("operator:") for p, a in actors.items() if p.startswith("inst-"))

    async with platform.client("eligibility", Role.REVIEWER) as eligibility:
        appeals = (await eligibility.get("/appeals", params={"limit": 100})).json()
    assert sorted(a["status"] for a in appeals) == ["lodged", "overturned", "upheld"]
