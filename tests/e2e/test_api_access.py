"""Who may do what, on the running services: each role is admitted exactly where it
should be and refused (403) everywhere else; no key or an unknown key is 401; every refusal is
problem+json without data; keys never reach a log file."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from socialsvc_common.apikeys import Role, new_key

from .applicants import mixed_applications
from .conftest import Platform, bearer, issue_keys

pytestmark = pytest.mark.integration
PROBLEM = "application/problem+json"
PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance"}
SUBMITTER, WORKER, OPERATOR, ADMIN, REVIEWER, PORTAL, PROVIDER = (
    Role.SUBMITTER,
    Role.SOCIAL_WORKER,
    Role.OPERATOR,
    Role.ADMINISTRATOR,
    Role.REVIEWER,
    Role.CITIZEN_PORTAL,
    Role.PROVIDER,
)
READERS = {WORKER, REVIEWER, OPERATOR, ADMIN}
TEAM = {
    "provision_type": "home_care",
    "name": "Access test team",
    "district": "Xətai",
    "caseload_limit": 3,
}


@dataclass(frozen=True)
class Call:
    service: str
    method: str
    path: str
    admitted: frozenset[Role]
    body: Callable[[], dict[str, Any] | None] = lambda: None
    content: bytes | None = None


def fresh_form() -> dict[str, Any]:
    return mixed_applications(1, seed=uuid.uuid4().int % 10_000)[0]


def table(application_id: str) -> list[Call]:
    nobody = str(uuid.uuid4())
    return [
        Call("intake", "POST", "/applications", frozenset({SUBMITTER, WORKER, ADMIN}), fresh_form),
        Call(
            "intake",
            "PATCH",
            f"/applications/{application_id}",
            frozenset({WORKER, ADMIN}),
            lambda: {"lives_alone": True},
        ),
        Call(
            "intake", "GET", f"/applications/{application_id}", frozenset({WORKER, OPERATOR, ADMIN})
        ),
        Call(
            "intake",
            "GET",
            "/consent-texts/current",
            frozenset({SUBMITTER, WORKER, OPERATOR, ADMIN}),
        ),
        Call(
            "intake",
            "POST",
            f"/applications/{nobody}/consent/withdrawal",
            frozenset({WORKER, OPERATOR, ADMIN}),
            lambda: {"reason": "citizen_request"},
        ),
        Call("assignment", "GET", "/providers", frozenset({OPERATOR, ADMIN})),
        Call(
            "assignment",
            "PUT",
            f"/providers/hc-access-{uuid.uuid4().hex[:8]}",
            frozenset({ADMIN}),
            lambda: TEAM,
        ),
        Call(
            "assignment",
            "POST",
            "/providers/import",
            frozenset({ADMIN}),
            content=b"provision_type,id,name,district,caseload_limit\n",
        ),
        Call(
            "assignment",
            "GET",
            f"/placements?application_id={nobody}",
            frozenset({WORKER, REVIEWER, OPERATOR, ADMIN}),
        ),
        Call("assignment", "GET", "/reviews", frozenset({WORKER, REVIEWER, OPERATOR, ADMIN})),
        *(
            Call(
                "assignment",
                "POST",
                f"/placements/{nobody}/{step}",
                frozenset({OPERATOR, PROVIDER, ADMIN}),
            )
            for step in ("accept", "start", "decline")
        ),
        Call(
            "assignment",
            "POST",
            f"/placements/{nobody}/release",
            frozenset({OPERATOR, PROVIDER, ADMIN}),
            lambda: {"reason": "moved"},
        ),
        *(
            Call("assignment", "GET", path, frozenset({PROVIDER, ADMIN}))
            for path in ("/provider", "/provider/placements", "/provider/waitlist")
        ),
        Call(
            "assignment",
            "POST",
            f"/placements/{nobody}/services",
            frozenset({PROVIDER, OPERATOR, ADMIN}),
            lambda: {"delivered_on": "2026-01-05", "kind": "visit"},
        ),
        Call(
            "assignment",
            "GET",
            f"/placements/{nobody}/services",
            frozenset({PROVIDER, OPERATOR, WORKER, REVIEWER, ADMIN}),
        ),
        Call(
            "eligibility",
            "GET",
            f"/applications/{application_id}/decisions",
            frozenset({WORKER, OPERATOR, REVIEWER, ADMIN}),
        ),
        Call(
            "eligibility",
            "POST",
            f"/applications/{nobody}/appeals",
            frozenset({WORKER, ADMIN}),
            lambda: {"grounds": "the decision overlooked my disability"},
        ),
        Call(
            "eligibility",
            "GET",
            "/appeals?overdue=true",
            frozenset({WORKER, OPERATOR, REVIEWER, ADMIN}),
        ),
        Call(
            "eligibility",
            "POST",
            f"/appeals/{nobody}/decision",
            frozenset({REVIEWER, ADMIN}),
            lambda: {"status": "upheld", "reasons": "the rules were applied correctly"},
        ),
        # Casework (intake) and the messages sent (notifications).
        Call("intake", "GET", "/cases?status=received", frozenset(READERS)),
        Call("intake", "GET", f"/cases/{application_id}", frozenset(READERS)),
        Call(
            "intake",
            "PUT",
            f"/cases/{nobody}/assignee",
            frozenset({WORKER, REVIEWER, ADMIN}),
            lambda: {"worker": None},
        ),
        Call("intake", "GET", f"/cases/{application_id}/notes", frozenset(READERS)),
        Call(
            "intake",
            "POST",
            f"/cases/{nobody}/notes",
            frozenset({WORKER, REVIEWER, ADMIN}),
            lambda: {"text": "called"},
        ),
        Call("intake", "GET", "/visits?status=requested", frozenset(READERS)),
        Call(
            "intake",
            "POST",
            f"/cases/{nobody}/visits",
            frozenset({WORKER, ADMIN}),
            lambda: {"reason": "check"},
        ),
        Call(
            "intake",
            "POST",
            f"/visits/{nobody}/outcome",
            frozenset({WORKER, ADMIN}),
            lambda: {"visited_at": datetime.now(UTC).isoformat(), "outcome": "informed"},
        ),
        Call(
            "notifications",
            "GET",
            f"/applications/{application_id}/messages",
            frozenset(READERS),
        ),
        # The portal's routes; without the citizen's FIN an admitted caller gets 422.
        Call("intake", "GET", "/portal/applications", frozenset({PORTAL, ADMIN})),
        Call("intake", "POST", "/portal/applications", frozenset({PORTAL, ADMIN}), fresh_form),
        Call("intake", "GET", f"/portal/applications/{application_id}", frozenset({PORTAL, ADMIN})),
        Call(
            "intake",
            "PATCH",
            f"/portal/applications/{application_id}",
            frozenset({PORTAL, ADMIN}),
            lambda: {"lives_alone": True},
        ),
        Call(
            "intake",
            "POST",
            f"/portal/applications/{nobody}/withdrawal",
            frozenset({PORTAL, ADMIN}),
        ),
        *(
            Call(
                "assignment",
                "POST",
                f"/portal/placements/{nobody}/{step}",
                frozenset({PORTAL, ADMIN}),
            )
            for step in ("accept", "decline")
        ),
    ]


async def send(
    client: httpx.AsyncClient, platform: Platform, call: Call, headers: dict[str, str]
) -> httpx.Response:
    return await client.request(
        call.method,
        platform.urls[call.service] + call.path,
        json=call.body(),
        content=call.content,
        headers=headers | ({"content-type": "text/csv"} if call.content else {}),
    )


def assert_refusal(response: httpx.Response, status: int, what: str) -> None:
    assert response.status_code == status, (what, response.status_code, response.text)
    assert response.headers["content-type"] == PROBLEM, what
    assert set(response.json()) == PROBLEM_FIELDS, (what, response.text)


async def test_each_role_is_admitted_exactly_where_it_should_be(platform: Platform) -> None:
    strangers = issue_keys(platform.sinks.parent / "other-store.jsonl")  # real keys, wrong store
    async with platform.client("intake", timeout=30) as admin:
        created = await admin.post("/applications", json=fresh_form())
    assert created.status_code == 202, created.text
    outcomes: list[str] = []
    async with httpx.AsyncClient(timeout=30) as client:
        for call in table(created.json()["application_id"]):
            what = f"{call.method} {call.service}{call.path}"
            for role, key in platform.keys.items():
                response = await send(client, platform, call, bearer(key))
                if role in call.admitted:
                    assert response.status_code not in {401, 403}, (what, role, response.text)
                    assert response.status_code < 500, (what, role, response.text)
                else:
                    assert_refusal(response, 403, f"{what} as {role}")
                    assert role.value in response.json()["detail"]
                outcomes.append(f"{what} {role.value} {response.status_code}")
            for headers in (
                {},
                bearer(new_key()),
                bearer(strangers[ADMIN]),
                {"X-API-Key": "not-a-key"},
                {"Authorization": f"Basic {platform.keys[ADMIN]}"},
            ):
                response = await send(client, platform, call, headers)
                assert_refusal(response, 401, f"{what} with {headers.keys()}")
            # The other header a client may use.
            response = await send(client, platform, call, {"X-API-Key": platform.keys[ADMIN]})
            assert response.status_code not in {401, 403}, (what, response.text)
        for service in ("intake", "assignment"):
            base = platform.urls[service]
            assert (await client.get(base + "/health")).status_code == 200
            # What a service is made of is for those who call it, its figures for its watchers.
            for path in ("/openapi.json", "/metrics"):
                assert_refusal(await client.get(base + path), 401, f"{service}{path} without a key")
            description = await client.get(
                base + "/openapi.json", headers=bearer(platform.keys[Role.SUBMITTER])
            )
            assert description.json()["info"]["title"]
            for role, key in platform.keys.items():
                scraped = await client.get(base + "/metrics", headers=bearer(key))
                if role in {Role.MONITOR, Role.OPERATOR, Role.ADMINISTRATOR}:
                    assert scraped.status_code == 200, (service, role)
                    assert "socialsvc_messages_in_total" in scraped.text
                else:
                    assert_refusal(scraped, 403, f"{service}/metrics as {role}")
            # No Swagger page: FastAPI's takes its script from a CDN.
            docs = await client.get(
                base + "/docs", headers=bearer(platform.keys[Role.ADMINISTRATOR])
            )
            assert docs.status_code == 404
    print("\n".join(outcomes))

    secrets = [*platform.keys.values(), *strangers.values()]
    for name, log in platform.logs.items():
        text = log.read_text()
        for secret in secrets:
            assert secret not in text, f"an API key in {name}.log"
            assert secret[4:24] not in text, f"part of an API key in {name}.log"
