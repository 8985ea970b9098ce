"""The loading stages: the provider registry (assignment), the applications (intake) and a
handful of appeals (eligibility), each only through the service's HTTP API."""

import asyncio
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

from deploy.demo.ministry.calls import Keys, pooled, send
from deploy.demo.ministry.people import Person
from deploy.demo.ministry.places import Country
from deploy.demo.ministry.registry import Scale, plan_registry

STATUS_WAIT_SECONDS = 180.0
GROUNDS = "Ailənin gəliri bu il azalıb; sosial işçi vəziyyəti yenidən qiymətləndirməyi xahiş edir."
VERDICTS = (
    {
        "status": "overturned",
        "reasons": "Ev ziyarətində evdə qulluğa ehtiyac təsdiqləndi.",
        "need_level": 1,
        "provision_types": ["home_care"],
    },
    {"status": "upheld", "reasons": "Gəlir ehtiyac meyarından yüksəkdir."},
)


class DemoError(RuntimeError):
    """A service refused what the demo sent, or is not there; the message says which."""


@dataclass
class Platform:
    urls: dict[str, str]
    keys: Keys
    client: httpx.AsyncClient

    async def call(
        self, method: str, service: str, path: str, role: str, **options: Any
    ) -> httpx.Response:
        headers = self.keys.headers(role) | options.pop("headers", {})
        return await send(
            self.client, method, self.urls[service] + path, headers=headers, **options
        )


def refusal(response: httpx.Response) -> str:
    """A refusal as problem+json names it: status, title and the fields at fault."""
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} {response.text[:200]}"
    fields = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in body.get("errors", []))
    return f"{response.status_code} {body.get('title', '')} {body.get('detail', '')} {fields}"


def title(response: httpx.Response) -> str:
    """The status and the problem's title alone: the detail of a refused form may quote it."""
    try:
        return f"{response.status_code} {response.json().get('title', '')}"
    except ValueError:
        return str(response.status_code)


async def providers(platform: Platform) -> list[dict[str, Any]]:
    response = await platform.call("GET", "assignment", "/providers", "administrator")
    if response.status_code != 200:
        raise DemoError(f"assignment did not list its providers: {refusal(response)}")
    listed: list[dict[str, Any]] = response.json()
    return listed


async def load_registry(
    platform: Platform, country: Country, scale: Scale, seed: int, today: date
) -> dict[str, int]:
    """Changes the home-care teams' caseloads (PUT), imports the new institutions and projects
    (CSV, all or nothing); the counts of what was created and updated."""
    plan = plan_registry(await providers(platform), country, scale, seed, today)
    counts: Counter[str] = Counter()

    async def put(team: dict[str, Any]) -> None:
        response = await platform.call(
            "PUT", "assignment", f"/providers/{team['id']}", "administrator", json=team
        )
        if response.status_code not in (200, 201):
            raise DemoError(f"provider {team['id']} refused: {refusal(response)}")
        counts["created" if response.status_code == 201 else "updated"] += 1

    await pooled(plan.teams, put, 8)
    if plan.imported:
        response = await platform.call(
            "POST",
            "assignment",
            "/providers/import",
            "administrator",
            content=plan.csv().encode(),
            headers={"content-type": "text/csv"},
            timeout=120,
        )
        if response.status_code != 200:
            raise DemoError(f"the CSV import was refused: {refusal(response)}")
        counts["created"] += len(response.json()["created"])
        counts["updated"] += len(response.json()["updated"])
    return dict(counts)


def registry_totals(listed: list[dict[str, Any]]) -> dict[str, int]:
    """What the registry holds: providers and places by direction, NGOs and their projects."""
    totals: Counter[str] = Counter()
    for entry in listed:
        kind = str(entry["provision_type"])
        totals[f"{kind} providers"] += 1
        totals[f"{kind} places"] += int(entry["capacity"])
    totals["NGOs"] = len(
        {e["organisation"] for e in listed if e["provision_type"] == "ngo_project"}
    )
    return dict(totals)


@dataclass
class Submitted:
    """What intake answered: the accepted applications (person number -> id), the refusals."""

    accepted: dict[int, str] = field(default_factory=dict)
    profiles: dict[int, str] = field(default_factory=dict)
    refused: Counter[str] = field(default_factory=Counter)


async def submit(
    platform: Platform, people: Iterable[Person], seed: int, concurrency: int, total: int
) -> Submitted:
    """Every form, `concurrency` at a time, each with its Idempotency-Key; progress every 5 s."""
    submitted = Submitted()
    started = time.monotonic()

    async def one(person: Person) -> None:
        response = await platform.call(
            "POST",
            "intake",
            "/applications",
            "submitter",
            json=person.form,
            headers={"Idempotency-Key": person.idempotency_key(seed)},
        )
        if response.status_code == 202:
            submitted.accepted[person.number] = str(response.json()["application_id"])
            submitted.profiles[person.number] = person.profile.name
        else:
            submitted.refused[title(response)] += 1

    async def progress() -> None:
        while True:
            await asyncio.sleep(5)
            done = len(submitted.accepted) + sum(submitted.refused.values())
            rate = done / (time.monotonic() - started)
            print(f"demo-statistics:   {done}/{total} answered ({rate:.0f}/s)", flush=True)

    reporter = asyncio.create_task(progress())
    try:
        await pooled(people, one, concurrency)
    finally:
        reporter.cancel()
    return submitted


async def appeal(platform: Platform, submitted: Submitted, count: int) -> Counter[str]:
    """Appeals against refusals of the demo's people: one in three overturned (home care
    granted), one upheld, one left for the reviewer."""
    refused = [
        submitted.accepted[n]
        for n, profile in sorted(submitted.profiles.items())
        if profile == "household_above_need_criterion"
    ][:count]
    outcome: Counter[str] = Counter()

    async def one(item: tuple[int, str]) -> None:
        index, application_id = item
        if not await decided_ineligible(platform, application_id):
            outcome["not decided in time"] += 1
            return
        lodged = await platform.call(
            "POST",
            "eligibility",
            f"/applications/{application_id}/appeals",
            "social_worker",
            json={"grounds": GROUNDS},
        )
        if lodged.status_code != 201:
            outcome[f"not lodged ({lodged.status_code})"] += 1
            return
        outcome["lodged"] += 1
        if index % 3 == 2:
            return
        verdict = VERDICTS[index % 3]
        decided = await platform.call(
            "POST",
            "eligibility",
            f"/appeals/{lodged.json()['id']}/decision",
            "reviewer",
            json=verdict,
        )
        outcome[str(verdict["status"]) if decided.status_code == 200 else "not decided"] += 1

    await pooled(enumerate(refused), one, 4)
    return outcome


async def decided_ineligible(platform: Platform, application_id: str) -> bool:
    deadline = time.monotonic() + STATUS_WAIT_SECONDS
    while time.monotonic() < deadline:
        response = await platform.call(
            "GET", "intake", f"/applications/{application_id}", "social_worker"
        )
        if response.status_code == 200 and response.json()["status"] == "ineligible":
            return True
        await asyncio.sleep(1)
    return False
