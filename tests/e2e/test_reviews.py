"""Reviews on the whole platform, with a review period of seconds: a started service comes due,
the citizen is asked about changes, eligibility decides again on the facts it holds by the rule
set in force today; a person still eligible keeps the service until the next review, one who no
longer is loses it (released with reason review_ended, the place going to the next person
waiting) and is told. A review nobody concludes in its grace period is listed and escalated.

Every eligibility on the broker decides a review of an application it holds, so the test needs the
broker to itself, as the whole suite runs its tests one after another: another platform with
reviews, deciding by the packaged rules, would continue the service the stricter rules end. It
can tell (the reviews are concluded while this run's eligibility is stopped) and skips then."""

import os
import subprocess
import sys
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

import eligibility
from socialsvc_common.apikeys import Role
from tests.harness import until

from .conftest import Platform, wait_for_log
from .test_consent import home_care_form, messages_to, reference
from .test_provider_registry import fetch

pytestmark = pytest.mark.integration
REVIEW_SECONDS = 8.0
GRACE_SECONDS = 4.0
DAY = 86_400
REVIEW_POLICY = f"""
version = "e2e"
overdue_after_days = {GRACE_SECONDS / DAY}

[[interval]]
provision_type = "home_care"
min_need_level = 0
days = {REVIEW_SECONDS / DAY}

[[interval]]
provision_type = "residential"
min_need_level = 0
days = {REVIEW_SECONDS / DAY}

[[interval]]
provision_type = "ngo_project"
min_need_level = 0
days = {REVIEW_SECONDS / DAY}
"""
# One home-care team with two places, so a third person waits for one to free; in a district no
# other test applies from, since every platform on the shared broker places every decision.
DISTRICT = "Balakən"
REGISTRY = f"""
[[home_care]]
id = "hc-balaken"
name = "Balakən home care"
district = "{DISTRICT}"
caseload_limit = 2
"""
RULES = Path(eligibility.__file__).parent / "policy"
HOME_CARE_FROM_LEVEL_1 = """groups = ["elderly", "elderly_alone", "disability"]
min_need_level = 1"""
REVIEW_DUE = "yenidən baxılma vaxtı çatdı"
CONTINUED = "davam edir"
ENDED = "dayandırılır"
APPEAL_BY = "Şikayət vermək üçün son gün"
STOPPED = "xidmət dayandırıldı"


@pytest.fixture
def platform_settings(tmp_path: Path) -> dict[str, dict[str, str]]:
    policy, registry = tmp_path / "reviews.toml", tmp_path / "providers.toml"
    policy.write_text(REVIEW_POLICY, encoding="utf-8")
    registry.write_text(REGISTRY, encoding="utf-8")
    return {
        "assignment": {
            "review_policy_file": str(policy),
            "review_sweep_seconds": "0.5",
            "providers_file": str(registry),
        }
    }


def stricter_rule_set(path: Path) -> Path:
    """The packaged rules, in force from today (Baku), with home care from need level 2, not 1."""
    packaged = (RULES / "2026-1.toml").read_text(encoding="utf-8")
    today = datetime.now(ZoneInfo("Asia/Baku")).date()
    stricter = (
        packaged.replace('version = "2026.1"', 'version = "2026.9"')
        .replace("effective_from = 2026-01-01", f"effective_from = {today.isoformat()}")
        .replace(HOME_CARE_FROM_LEVEL_1, HOME_CARE_FROM_LEVEL_1.replace("= 1", "= 2"))
    )
    assert stricter.count("2026.9") == 1
    assert HOME_CARE_FROM_LEVEL_1 not in stricter
    path.write_text(stricter, encoding="utf-8")
    return path


def activate(platform: Platform, rule_file: Path) -> None:
    env = {**os.environ, "ELIGIBILITY_DATABASE_URL": platform.extra["databases"]["eligibility"]}
    command = [sys.executable, "-m", "eligibility.policy_cli", "activate", str(rule_file)]
    done = subprocess.run(
        [*command, "--actor", "e2e-administrator"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def person(seed: int, activities: list[str]) -> dict[str, Any]:
    """An elderly person alone in Balakən, income stated (so no route waits on it)."""
    body = home_care_form(seed)
    body["service_requested"] = "home_care"
    body["applicant"] |= {"district": DISTRICT}
    body["circumstances"] |= {
        "activities_needing_help": activities,
        "monthly_household_income_azn": "2000",
    }
    return body


async def placements(assignment: httpx.AsyncClient, application_id: str) -> list[dict[str, Any]]:
    found = await assignment.get("/placements", params={"application_id": application_id})
    return list(found.json())


async def reviews(assignment: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    found = await assignment.get("/reviews", params=params)
    assert found.status_code == 200, found.text
    return list(found.json())


async def test_a_review_continues_one_service_ends_another_and_escalates_when_overdue(
    platform: Platform, tmp_path: Path
) -> None:
    # Need level 1 (washing, housework, shopping) and 3: both get home care under 2026.1.
    lower = person(41, ["washing", "housework", "shopping"])
    higher = person(42, ["washing", "eating", "moving_about", "toilet", "dressing"])
    waiting = person(43, ["washing", "eating", "moving_about", "toilet", "dressing"])
    intake = platform.client("intake", Role.SOCIAL_WORKER)
    assignment = platform.client("assignment", Role.OPERATOR)
    staff = platform.client("assignment", Role.SOCIAL_WORKER)
    ids = []
    for body in (lower, higher):
        submitted = await intake.post("/applications", json=body)
        assert submitted.status_code == 202, submitted.text
        ids.append(submitted.json()["application_id"])
    ended_id, continued_id = ids

    async def offered(application_id: str) -> dict[str, Any] | None:
        found = await placements(assignment, application_id)
        return found[0] if found else None

    async def told(ref: str, text: str) -> bool:
        return any(text in message for message in messages_to(platform, ref))

    places = [await until(partial(offered, i), 90) for i in ids]
    assert all(places), places
    submitted = await intake.post("/applications", json=waiting)
    waiting_id = submitted.json()["application_id"]

    async def waitlisted() -> bool:
        # Read from this platform's assignment: other platforms on the shared broker place
        # every decision too, and intake records their events as well.
        query = "SELECT 1 FROM waitlist WHERE application_id = %s AND waiting"
        return bool(fetch(platform.extra["databases"]["assignment"], query, waiting_id))

    assert await until(waitlisted, 90)

    # Eligibility stops, and the ministry tightens home care meanwhile.
    platform.processes["eligibility"].terminate()
    platform.processes["eligibility"].wait(timeout=60)
    activate(platform, stricter_rule_set(tmp_path / "2026-9.toml"))

    for place in places:
        assert place is not None
        for step in ("accept", "start"):
            moved = await assignment.post(f"/placements/{place['id']}/{step}")
            assert moved.status_code == 202, moved.text
    started = {i: (await placements(assignment, i))[0] for i in ids}
    assert all(p["review_due_at"] and p["need_level"] is not None for p in started.values())

    # Nobody decides the reviews: they come due, the citizens are asked, then they escalate.
    async def overdue() -> list[dict[str, Any]]:
        listed = await reviews(staff, overdue="true")
        mine = [r for r in listed if r["application_id"] in ids and r["escalated_at"]]
        return mine if len(mine) == len(ids) else []

    escalated = await until(overdue, REVIEW_SECONDS + GRACE_SECONDS + 30)
    if not escalated and [
        r for r in await reviews(staff) if r["application_id"] in ids and r["status"] != "open"
    ]:
        # This run's eligibility is stopped: another platform's decided them.
        pytest.skip("another platform with reviews on the shared broker decided this run's reviews")
    assert escalated, await reviews(staff)
    assert all(r["status"] == "open" and r["overdue"] for r in escalated)
    for review in escalated:
        wait_for_log(
            platform.logs["assignment"], {"event": "review overdue", "review_id": review["id"]}
        )
    metrics = (await assignment.get("/metrics")).text
    assert "socialsvc_reviews_overdue_total 2.0" in metrics
    for application_id in ids:
        ref = reference(application_id)
        assert await until(partial(told, ref, REVIEW_DUE), 30), messages_to(platform, ref)

    # Eligibility is back: it decides the reviews on the facts it holds, by the stricter rules.
    platform.relaunch("eligibility")

    async def concluded(application_id: str) -> dict[str, Any] | None:
        found = await reviews(staff, application_id=application_id)
        return found[0] if found and found[0]["status"] == "concluded" else None

    ended = await until(lambda: concluded(ended_id), 90)
    kept = await until(lambda: concluded(continued_id), 90)
    assert ended
    assert ended["outcome"] == "ended"
    assert ended["rule_set_version"] == "2026.9"
    assert kept
    assert kept["outcome"] == "continued"
    [gone] = await placements(assignment, ended_id)
    assert (gone["active"], gone["status"], gone["release_reason"]) == (
        False,
        "ended",
        "review_ended",
    )
    [still] = await placements(assignment, continued_id)
    assert still["active"]
    assert still["status"] == "started"
    assert still["review_due_at"] > started[continued_id]["review_due_at"]
    # The freed place goes to the person waiting.
    assert await until(lambda: offered(waiting_id), 30)

    ended_ref, kept_ref = reference(ended_id), reference(continued_id)
    assert await until(partial(told, ended_ref, ENDED), 60), messages_to(platform, ended_ref)
    # Told once, with the last day to appeal; the release itself calls for no second message.
    [ending] = [m for m in messages_to(platform, ended_ref) if ENDED in m]
    assert APPEAL_BY in ending
    assert not [m for m in messages_to(platform, ended_ref) if STOPPED in m]
    assert await until(partial(told, kept_ref, CONTINUED), 60), messages_to(platform, kept_ref)
    for client in (intake, assignment, staff):
        await client.aclose()
