"""The citizen through the e-government portal, on real Kafka and PostgreSQL: the portal's key
submits for the citizen it vouches for, who sees only their own applications (another person's is
404), the journey and the decision explained in their language, adds the facts asked for, accepts
one offer, declines another and withdraws an application; each step names the portal as its actor.
"""

import secrets
import string
from collections.abc import Callable
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest

from socialsvc_common.apikeys import Role
from socialsvc_common.contract.payloads import Language
from socialsvc_common.db import libpq_url
from socialsvc_common.explanations import application_ref, default_explanations
from tests.harness import until

from .applicants import mixed_applications
from .conftest import Platform

pytestmark = pytest.mark.integration
PROBLEM = "application/problem+json"
PORTAL = "citizen_portal:e2e-citizen_portal"
RECEIVED = "intake.application.received"
WORDS = default_explanations()
# A district whose home-care team has room, and that the other tests' applicants rarely name.
DISTRICT = "Kəngərli"


def new_fin() -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(7))


def home_care(fin: str, language: str) -> dict[str, Any]:
    """An elderly person living alone who needs help at home: offered a place in DISTRICT."""
    return {
        "service_requested": "home_care",
        "consent_to_processing": True,
        "applicant": {
            "fin": fin,
            "first_name": "Sona",
            "last_name": "Məmmədova",
            "birth_date": "1944-04-12",
            "mobile_phone": "+994501112233",
            "language": language,
            "district": DISTRICT,
        },
        "circumstances": {
            "lives_alone": True,
            "monthly_household_income_azn": "280",
            "activities_needing_help": ["washing", "shopping", "housework", "medication"],
        },
    }


def refused(fin: str, language: str) -> dict[str, Any]:
    """A working-age person with a good income who needs no help: refused, with reasons."""
    form = home_care(fin, language) | {"service_requested": "any"}
    form["applicant"] = form["applicant"] | {"birth_date": "1990-01-15"}
    form["circumstances"] = {"household_size": 3, "monthly_household_income_azn": "3000"}
    return form


def needs_information(fin: str, language: str) -> dict[str, Any]:
    """A family of four that did not state its income: asked for it."""
    form = mixed_applications(10, seed=11)[9]
    assert "monthly_household_income_azn" not in form["circumstances"]
    form["applicant"] = form["applicant"] | {"fin": fin, "language": language}
    return form


class Citizen:
    """The portal's calls for one citizen: its key, and their FIN in the header."""

    def __init__(self, platform: Platform, fin: str) -> None:
        self.fin = fin
        self.headers = {
            "Authorization": f"Bearer {platform.keys[Role.CITIZEN_PORTAL]}",
            "X-Citizen-FIN": fin,
        }
        self.intake = platform.urls["intake"]
        self.assignment = platform.urls["assignment"]

    async def call(self, method: str, url: str, **options: Any) -> httpx.Response:
        async with httpx.AsyncClient(headers=self.headers, timeout=30) as client:
            return await client.request(method, url, **options)

    async def submit(self, form: dict[str, Any]) -> str:
        answer = await self.call("POST", f"{self.intake}/portal/applications", json=form)
        assert answer.status_code == 202, answer.text
        assert answer.json()["status_url"].startswith("/portal/applications/")
        return str(answer.json()["application_id"])

    async def view(self, application_id: str, **params: str) -> httpx.Response:
        url = f"{self.intake}/portal/applications/{application_id}"
        return await self.call("GET", url, params=params)

    async def seen(self, application_id: str, done: Callable[[dict[str, Any]], bool]) -> Any:
        async def check() -> dict[str, Any] | None:
            view = (await self.view(application_id)).json()
            return view if done(view) else None

        found = await until(check)
        assert found, (await self.view(application_id)).text
        return found

    async def answer(self, placement_id: str, step: str) -> httpx.Response:
        url = f"{self.assignment}/portal/placements/{placement_id}/{step}"
        return await self.call("POST", url)


def assert_problem(response: httpx.Response, status: int, slug: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith(f"/{slug}"), response.text


def placement(platform: Platform, application_id: str) -> dict[str, Any]:
    url = libpq_url(platform.extra["databases"]["assignment"])
    with psycopg.connect(url) as connection:
        cursor = connection.execute(
            "SELECT status, active, release_reason, changed_by FROM placements "
            "WHERE application_id = %s ORDER BY placed_at DESC LIMIT 1",
            (application_id,),
        )
        row = cursor.fetchone()
    assert row is not None, application_id
    return dict(zip(("status", "active", "release_reason", "changed_by"), row, strict=True))


def offered(view: dict[str, Any]) -> bool:
    return view["offer"] is not None and view["offer"]["status"] == "offered"


async def test_a_citizen_lives_their_case_through_the_portal(platform: Platform) -> None:
    leyla, ramiz, kamran, nigar = (Citizen(platform, new_fin()) for _ in range(4))
    leylas_care = await leyla.submit(home_care(leyla.fin, "az"))
    leylas_refusal = await leyla.submit(refused(leyla.fin, "az"))
    ramizs_care = await ramiz.submit(home_care(ramiz.fin, "ru"))
    kamrans = await kamran.submit(needs_information(kamran.fin, "en"))
    nigars_care = await nigar.submit(home_care(nigar.fin, "az"))

    # The portal submits only for the citizen it names, and names them in the header.
    someone_else = await leyla.call(
        "POST", f"{leyla.intake}/portal/applications", json=home_care(ramiz.fin, "az")
    )
    assert_problem(someone_else, 422, "not-the-citizens-fin")
    async with platform.client("intake", Role.CITIZEN_PORTAL) as nameless:
        assert_problem(await nameless.get("/portal/applications"), 422, "validation")
        assert_problem(await nameless.get(f"/portal/applications/{leylas_care}"), 422, "validation")

    # Each sees their own applications, and nobody else's.
    listed = (await leyla.call("GET", f"{leyla.intake}/portal/applications")).json()
    assert {a["application_id"] for a in listed} == {leylas_care, leylas_refusal}
    assert [a["reference"] for a in listed] == [
        application_ref(UUID(a["application_id"])) for a in listed
    ]
    assert_problem(await ramiz.view(leylas_care), 404, "not-found")
    assert_problem(await ramiz.view(leylas_care, language="ru"), 404, "not-found")

    # The decision explained in each citizen's language; the journey with it.
    leylas_no = await leyla.seen(leylas_refusal, lambda v: v["decision"] is not None)
    assert leylas_no["status"] == "ineligible"
    assert leylas_no["language"] == "az"
    reasons = leylas_no["decision"]["reasons"]
    assert reasons
    # The reasons that decided it, as her message said them: never two that contradict.
    assert not {"no_target_group", "group_not_served"} <= {r["code"] for r in reasons}
    assert [r["text"] for r in reasons] == [WORDS[Language.AZ].reason(r["code"]) for r in reasons]
    in_english = (await leyla.view(leylas_refusal, language="en")).json()["decision"]["reasons"]
    assert [r["text"] for r in in_english] == [
        WORDS[Language.EN].reason(r["code"]) for r in reasons
    ]
    assert [s["type"] for s in leylas_no["journey"]][:2] == [
        "intake.application.received",
        "eligibility.decision.made",
    ]
    assert leylas_no["may"] == ["withdraw"]

    ramizs_offer = await ramiz.seen(ramizs_care, offered)
    granted = ramizs_offer["decision"]["provision_types"]
    assert "home_care" in [g["code"] for g in granted]
    assert [g["text"] for g in granted] == [
        WORDS[Language.RU].provision_types[g["code"]] for g in granted
    ]
    assert ramizs_offer["offer"]["provision_type"] in granted
    assert ramizs_offer["offer"]["district"] == DISTRICT
    assert ramizs_offer["offer"]["expires_at"] is not None
    assert ramizs_offer["may"] == ["accept_offer", "decline_offer", "withdraw"]

    asked = await kamran.seen(kamrans, lambda v: v["status"] == "needs_information")
    income = WORDS[Language.EN].missing["monthly_household_income_azn"]
    assert asked["decision"]["missing"] == [
        {"code": "monthly_household_income_azn", "text": income}
    ]
    assert asked["may"] == ["add_facts", "withdraw"]

    # Leyla accepts her offer; nobody else can answer it, nor answer it twice.
    leylas_offer = (await leyla.seen(leylas_care, offered))["offer"]
    assert_problem(await ramiz.answer(leylas_offer["placement_id"], "accept"), 404, "not-found")
    accepted = await leyla.answer(leylas_offer["placement_id"], "accept")
    assert accepted.status_code == 202, accepted.text
    assert accepted.json() == {"events": ["assignment.placement.updated"]}
    assert_problem(await leyla.answer(leylas_offer["placement_id"], "accept"), 409, "wrong-status")
    after = await leyla.seen(leylas_care, lambda v: v["offer"]["status"] == "accepted")
    assert after["may"] == ["withdraw"]
    assert placement(platform, leylas_care) == {
        "status": "accepted",
        "active": True,
        "release_reason": None,
        "changed_by": PORTAL,
    }

    # Ramiz declines his: the place goes back, his application is closed as released.
    declined = await ramiz.answer(ramizs_offer["offer"]["placement_id"], "decline")
    assert declined.status_code == 202, declined.text
    gone = await ramiz.seen(ramizs_care, lambda v: v["status"] == "released")
    assert gone["offer"] is None
    assert placement(platform, ramizs_care)["changed_by"] == PORTAL
    assert placement(platform, ramizs_care)["status"] == "declined"

    # Kamran adds the income asked for; the application is decided again.
    wrong_state = await leyla.call(
        "PATCH", f"{leyla.intake}/portal/applications/{leylas_care}", json={"lives_alone": True}
    )
    assert_problem(wrong_state, 409, "facts-not-asked-for")
    not_his = await ramiz.call(
        "PATCH", f"{ramiz.intake}/portal/applications/{kamrans}", json={"lives_alone": True}
    )
    assert_problem(not_his, 404, "not-found")
    added = await kamran.call(
        "PATCH",
        f"{kamran.intake}/portal/applications/{kamrans}",
        json={"monthly_household_income_azn": "320"},
    )
    assert added.status_code == 202, added.text
    decided = await kamran.seen(
        kamrans, lambda v: v["status"] not in {"received", "needs_information"}
    )
    assert decided["decision"]["outcome"] == "eligible"
    assert decided["decision"]["missing"] == []
    revisions = [s["summary"]["revision"] for s in decided["journey"] if s["type"] == RECEIVED]
    assert revisions == [1, 2]

    # Nigar withdraws while her offer waits: the place is released, nothing is left to do.
    await nigar.seen(nigars_care, offered)
    withdrawal = f"{nigar.intake}/portal/applications/{nigars_care}/withdrawal"
    assert_problem(await leyla.call("POST", withdrawal), 404, "not-found")
    withdrawn = await nigar.call("POST", withdrawal)
    assert withdrawn.status_code == 202, withdrawn.text
    assert_problem(await nigar.call("POST", withdrawal), 409, "consent-already-withdrawn")
    closed = await nigar.seen(nigars_care, lambda v: v["status"] == "withdrawn")
    assert (closed["offer"], closed["may"]) == (None, [])

    async def released() -> bool:
        return bool(placement(platform, nigars_care)["release_reason"] == "consent_withdrawn")

    assert await until(released)

    # The staff side sees the portal as the actor of every step it took.
    async with platform.client("intake", Role.SOCIAL_WORKER) as staff:
        leylas = (await staff.get(f"/applications/{leylas_care}")).json()
        kamran_staff = (await staff.get(f"/applications/{kamrans}")).json()
        nigars = (await staff.get(f"/applications/{nigars_care}")).json()
    assert leylas["submitted_by"] == {"role": "citizen_portal", "name": "e2e-citizen_portal"}
    assert leylas["channel"] == "egov"
    assert kamran_staff["facts_added_by"] == leylas["submitted_by"]
    assert nigars["consent"]["withdrawn_by"] == PORTAL
    assert nigars["consent"]["withdrawal_reason"] == "citizen_request"

    # No FIN the portal vouched for reached a log in clear.
    fins = [leyla.fin, ramiz.fin, kamran.fin, nigar.fin]
    for name, log in platform.logs.items():
        text = log.read_text()
        assert not [fin for fin in fins if fin in text], f"a citizen's FIN in {name}.log"
