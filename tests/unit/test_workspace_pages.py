"""The workspace's own rules, on stand-ins of the services: sign-in and its refusals, the throttle,
CSRF, a search that keeps a FIN out of every URL and log line, the services' refusals shown in
the person's language, and a key a service no longer takes ending the session."""

import uuid
from pathlib import Path

import pytest

from tests.unit.workspace_fakes import (
    CASE_ID,
    FakeServices,
    csrf_of,
    problem,
    sign_in,
    workspace,
)

CASE = {
    "application_id": str(CASE_ID),
    "reference": "1A2B-3C4D",
    "name": "Sona Məmmədova",
    "district": "Xətai",
    "status": "needs_information",
}
FIN = "5ZJ8K2L"
VISIT_ID = uuid.UUID("5a1e0000-0000-4000-8000-000000000002")


async def test_a_key_signs_in_to_a_session_cookie_that_is_not_the_key(tmp_path: Path) -> None:
    client, keys = workspace(tmp_path, FakeServices())
    async with client:
        assert (await client.get("/queues")).headers["location"] == "/signin"
        signed = await sign_in(client, keys["worker"])
        assert (signed.status_code, signed.headers["location"]) == (303, "/queues")
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
        assert keys["worker"] not in cookie
        page = await client.get("/queues")
        assert page.status_code == 200
        assert 'id="who-name">leyla<' in page.text
        assert 'id="who-scope">Xətai<' in page.text
        assert '<html lang="az">' in page.text
        assert page.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        signed_out = await client.post("/signout", data={"csrf": csrf_of(page.text)})
        assert signed_out.headers["location"] == "/signin"
        assert (await client.get("/queues")).headers["location"] == "/signin"


async def test_a_provider_key_goes_to_the_providers_desk(tmp_path: Path) -> None:
    client, keys = workspace(tmp_path, FakeServices())
    async with client:
        assert (await sign_in(client, keys["provider"])).headers["location"] == "/provider"
        refused = await client.get("/queues")
        assert refused.status_code == 403
        assert "Rolunuz üçün deyil" in refused.text


@pytest.mark.parametrize(
    ("who", "status", "words"),
    [
        ("", 400, "API açarınızı sahəyə yapışdırın"),
        ("ssk_" + "0" * 43, 401, "Bu açar tanınmır"),
        ("not a key", 401, "Bu açar tanınmır"),
        ("submitter", 403, "insan üçün deyil, sistem üçündür"),
    ],
)
async def test_a_refused_sign_in_says_why(
    tmp_path: Path, who: str, status: int, words: str
) -> None:
    client, keys = workspace(tmp_path, FakeServices())
    async with client:
        refused = await sign_in(client, keys.get(who, who))
        assert refused.status_code == status
        assert words in refused.text
        assert 'role="alert" id="signin-message"' in refused.text
        assert "ws_session" not in refused.headers.get("set-cookie", "")


async def test_failed_sign_ins_are_throttled_per_address(tmp_path: Path) -> None:
    client, keys = workspace(tmp_path, FakeServices())
    async with client:
        for _ in range(10):
            assert (await sign_in(client, "ssk_" + "1" * 43)).status_code == 401
        held = await sign_in(client, keys["worker"])
        assert held.status_code == 429
        assert int(held.headers["retry-after"]) > 0
        assert "saniyədən sonra" in held.text


async def test_a_sign_in_without_its_forms_token_is_refused(tmp_path: Path) -> None:
    client, keys = workspace(tmp_path, FakeServices())
    async with client:
        forged = await client.post("/signin", data={"key": keys["worker"], "csrf": "made-up"})
        assert forged.status_code == 403
        assert "ws_session" not in forged.headers.get("set-cookie", "")


async def test_a_form_without_the_sessions_token_changes_nothing(tmp_path: Path) -> None:
    fakes = FakeServices()
    fakes.on("intake", "POST", f"/cases/{CASE_ID}/notes", (201, {"id": "n1"}))
    client, keys = workspace(tmp_path, fakes)
    async with client:
        await sign_in(client, keys["worker"])
        path = f"/cases/{CASE_ID}/notes"
        for form in ({"text": "visited"}, {"text": "visited", "csrf": "x" * 43}):
            refused = await client.post(path, data=form)
            assert refused.status_code == 403
            assert "Formanın vaxtı keçib" in refused.text
        assert fakes.calls("intake", "POST", path) == []
        page = await client.get("/search")
        done = await client.post(path, data={"text": "visited", "csrf": csrf_of(page.text)})
        assert done.status_code == 303
        [sent] = fakes.calls("intake", "POST", path)
        assert sent.headers["authorization"] == f"Bearer {keys['worker']}"


async def test_a_search_by_fin_keeps_it_out_of_urls_and_logs(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    fakes = FakeServices()
    fakes.on("intake", "GET", "/cases", (200, {"total": 1, "items": [CASE]}))
    client, keys = workspace(tmp_path, fakes)
    async with client:
        await sign_in(client, keys["worker"])
        page = await client.get("/search")
        posted = await client.post(
            "/search", data={"fin": FIN.lower(), "name": "Məmmədova", "csrf": csrf_of(page.text)}
        )
        assert posted.headers["location"] == "/search"
        results = await client.get("/search")
        assert "1A2B-3C4D" in results.text
        assert f'value="{FIN}"' in results.text
    [asked] = fakes.calls("intake", "GET", "/cases")
    assert asked.url.params["fin"] == FIN
    logged = capfd.readouterr()
    assert '"path": "/search"' in logged.err
    for secret in (FIN, FIN.lower(), "Məmmədova", "M%C9%99mm%C9%99dova"):
        assert secret not in logged.err + logged.out


async def test_a_wrong_fin_is_refused_before_any_service_is_asked(tmp_path: Path) -> None:
    fakes = FakeServices()
    client, keys = workspace(tmp_path, fakes)
    async with client:
        await sign_in(client, keys["worker"])
        page = await client.get("/search")
        await client.post("/search", data={"fin": "12345", "csrf": csrf_of(page.text)})
        shown = await client.get("/search?lang=en")
        assert "A FIN has exactly seven letters and digits." in shown.text
    assert fakes.calls("intake", "GET", "/cases") == []


async def test_a_route_a_service_lacks_is_named_in_the_persons_language(tmp_path: Path) -> None:
    client, keys = workspace(tmp_path, FakeServices())
    async with client:
        await sign_in(client, keys["worker"])
        queues = await client.get("/queues?lang=ru")
        assert queues.status_code == 200
        assert '<html lang="ru">' in queues.text
        assert "Служба «Приём» пока этого не предлагает." in queues.text
        assert "ws_lang=ru" in queues.headers["set-cookie"]
        assert '<html lang="ru">' in (await client.get("/search")).text


async def test_a_services_refusal_is_shown_with_a_translated_heading(tmp_path: Path) -> None:
    fakes = FakeServices()
    conflict = problem(409, "visit-done", "Visit already recorded", "the visit v1 is done")
    fakes.on("intake", "POST", f"/visits/{VISIT_ID}/outcome", conflict)
    client, keys = workspace(tmp_path, fakes)
    async with client:
        await sign_in(client, keys["worker"])
        page = await client.get("/search")
        sent = await client.post(
            f"/cases/{CASE_ID}/visits/{VISIT_ID}/outcome",
            data={
                "csrf": csrf_of(page.text),
                "outcome": "informed",
                "visited_at": "2026-01-05T10:30",
            },
        )
        assert sent.headers["location"] == f"/cases/{CASE_ID}#visits"
        shown = await client.get(f"/cases/{CASE_ID}")  # the case itself: intake lacks the route
        assert "Bunu indi etmək olmaz" in shown.text
        assert "Visit already recorded — the visit v1 is done" in shown.text
        assert "Traceback" not in shown.text


async def test_a_key_a_service_no_longer_takes_ends_the_session(tmp_path: Path) -> None:
    fakes = FakeServices()
    fakes.on("intake", "GET", "/cases", problem(401, "unauthenticated", "Unknown API key", "x"))
    client, keys = workspace(tmp_path, fakes)
    async with client:
        await sign_in(client, keys["worker"])
        ended = await client.get("/queues")
        assert ended.headers["location"] == "/signin?ended=1"
        assert (await client.get("/search")).headers["location"] == "/signin"
        assert "Sessiyanız başa çatıb" in (await client.get("/signin?ended=1")).text


async def test_the_case_page_shows_the_decision_explained_and_hides_forms_from_operators(
    tmp_path: Path,
) -> None:
    fakes = FakeServices()
    case = {"case": CASE, "applicant": {"fin": FIN, "first_name": "Sona"}, "journey": []}
    fakes.on("intake", "GET", f"/cases/{CASE_ID}", (200, case))
    decision = {
        "current": True,
        "outcome": "needs_information",
        "missing": ["monthly_household_income_azn"],
        "rules": [
            {"rule": "income_need_criterion", "passed": False, "reason": "income_not_stated"}
        ],
    }
    fakes.on("eligibility", "GET", f"/applications/{CASE_ID}/decisions", (200, [decision]))
    client, keys = workspace(tmp_path, fakes)
    async with client:
        await sign_in(client, keys["operator"])
        page = await client.get(f"/cases/{CASE_ID}?lang=en")
        assert "Income below the need criterion" in page.text
        assert "not met" in page.text
        assert "Your household income is not stated in the application." in page.text
        assert 'id="note-form"' not in page.text
        assert "Intake service does not offer this yet" in page.text  # notes, visits: not yet
    [messages] = fakes.calls("notifications", "GET", f"/applications/{CASE_ID}/messages")
    assert messages.headers["authorization"] == f"Bearer {keys['operator']}"


async def test_a_case_outside_the_scope_is_not_found_and_nothing_else_is_asked(
    tmp_path: Path,
) -> None:
    fakes = FakeServices()
    fakes.on("intake", "GET", f"/cases/{CASE_ID}", problem(404, "not-found", "Not found", "no"))
    client, keys = workspace(tmp_path, fakes)
    async with client:
        await sign_in(client, keys["worker"])
        page = await client.get(f"/cases/{CASE_ID}")
        assert page.status_code == 404
        assert "rayonlarınıza aid deyil" in page.text
    assert fakes.calls("notifications", "GET", f"/applications/{CASE_ID}/messages") == []
    assert len(fakes.seen) == 1


async def test_the_health_check_answers_without_a_session(tmp_path: Path) -> None:
    client, _ = workspace(tmp_path, FakeServices())
    async with client:
        health = await client.get("/health")
    assert health.status_code == 200
    assert health.json()["service"] == "workspace"


PLACEMENT_ID = "7f000000-0000-4000-8000-000000000002"
PLACED = {
    "placement_id": PLACEMENT_ID,
    "application_id": str(CASE_ID),
    "reference": "1A2B-3C4D",
    "status": "started",
    "provision_type": "ngo_project",
    "district": "Xətai",
    "placed_at": "2026-12-01T10:00:00Z",
    "offer_expires_at": None,
    "started_at": "2026-12-02T10:00:00Z",
    "released_at": None,
    "release_reason": None,
    "services_delivered": 1,
    "review_due_at": None,
}


async def test_a_providers_desk_warns_before_the_contract_ends(tmp_path: Path) -> None:
    fakes = FakeServices()
    entry = {
        "id": "ngo-umid",
        "name": "Günərzi reabilitasiya mərkəzi",
        "provision_type": "ngo_project",
        "districts": ["Xətai"],
        "capacity": 60,
        "in_use": 1,
        "free": 59,
        "contract_start": "2026-01-01",
        "contract_end": "2026-12-31",
        "contract_days_left": 25,
        "contract_warning": True,
    }
    fakes.on("assignment", "GET", "/provider", (200, entry))
    fakes.on("assignment", "GET", "/provider/placements", (200, [PLACED]))
    fakes.on("assignment", "GET", "/provider/waitlist", (200, []))
    delivered = {"id": "s1", "delivered_on": "2026-12-03", "kind": "session", "minutes": 45}
    services = (200, [delivered | {"recorded_by": {"role": "provider", "name": "umid"}}])
    fakes.on("assignment", "GET", f"/placements/{PLACEMENT_ID}/services", services)
    fakes.on("assignment", "POST", f"/placements/{PLACEMENT_ID}/release", (202, {}))
    client, keys = workspace(tmp_path, fakes)
    async with client:
        await sign_in(client, keys["provider"])
        desk = await client.get("/provider?lang=en")
        assert "The contract ends in 25 days, on 31.12.2026." in desk.text
        assert 'id="glance-free">59<' in desk.text
        assert "1A2B-3C4D" in desk.text
        page = await client.get(f"/provider/placements/{PLACEMENT_ID}")
        assert page.status_code == 200
        assert "provider:umid" in page.text
        assert 'id="service-form"' in page.text
        token = csrf_of(page.text)
        wrong = await client.post(
            f"/provider/placements/{PLACEMENT_ID}/release", data={"csrf": token, "reason": "x"}
        )
        assert wrong.headers["location"] == "/provider"
        ended = await client.post(
            f"/provider/placements/{PLACEMENT_ID}/release",
            data={
                "csrf": token,
                "reason": "service_ended",
                "back": f"/provider/placements/{PLACEMENT_ID}",
            },
        )
        assert ended.headers["location"] == f"/provider/placements/{PLACEMENT_ID}"
        future = await client.post(
            f"/provider/placements/{PLACEMENT_ID}/services",
            data={"csrf": token, "delivered_on": "2999-01-01", "kind": "session"},
        )
        assert (
            "Enter the date (not in the future)"
            in (await client.get(future.headers["location"])).text
        )
    [release] = fakes.calls("assignment", "POST", f"/placements/{PLACEMENT_ID}/release")
    assert release.content == b'{"reason":"service_ended"}'
    assert fakes.calls("assignment", "POST", f"/placements/{PLACEMENT_ID}/services") == []


async def test_a_reviewers_verdict_goes_to_eligibility_as_given(tmp_path: Path) -> None:
    fakes = FakeServices()
    appeal_id = "9e000000-0000-4000-8000-000000000003"
    appeal = {
        "id": appeal_id,
        "application_id": str(CASE_ID),
        "subject": "decision",
        "status": "lodged",
        "grounds": "she cannot cook since her operation",
        "lodged_at": "2026-12-01T10:00:00Z",
        "lodged_by": "social_worker:leyla",
        "respond_by": "2026-12-31T10:00:00Z",
        "overdue": False,
    }
    fakes.on("eligibility", "GET", f"/appeals/{appeal_id}", (200, appeal))
    fakes.on("eligibility", "POST", f"/appeals/{appeal_id}/decision", (200, appeal))
    client, keys = workspace(tmp_path, fakes)
    async with client:
        await sign_in(client, keys["reviewer"])
        page = await client.get(f"/appeals/{appeal_id}?lang=en")
        assert "1A2B-3C4D" in page.text
        assert 'id="verdict"' in page.text
        token = csrf_of(page.text)
        await client.post(
            f"/appeals/{appeal_id}/decision",
            data={
                "csrf": token,
                "status": "overturned",
                "reasons": "help is needed",
                "need_level": "2",
                "provision_types": ["home_care", "ngo_project"],
            },
        )
        await client.post(f"/appeals/{appeal_id}/decision", data={"csrf": token, "status": "x"})
        shown = await client.get(f"/appeals/{appeal_id}")
        assert "Choose a verdict and write its reasons." in shown.text
    [sent] = fakes.calls("eligibility", "POST", f"/appeals/{appeal_id}/decision")
    assert sent.content == (
        b'{"status":"overturned","reasons":"help is needed","need_level":2,'
        b'"provision_types":["home_care","ngo_project"]}'
    )


async def test_a_workers_case_page_records_a_visit_in_baku_time(tmp_path: Path) -> None:
    fakes = FakeServices()
    case = {"case": CASE, "applicant": {"fin": FIN}, "journey": [], "assigned_to": "leyla"}
    fakes.on("intake", "GET", f"/cases/{CASE_ID}", (200, case))
    note = {"id": "n1", "text": None, "confidential": True, "author": "social_worker:rauf"}
    fakes.on("intake", "GET", f"/cases/{CASE_ID}/notes", (200, [note]))
    visit = {
        "id": str(VISIT_ID),
        "application_id": str(CASE_ID),
        "reason": "decision_eligible",
        "message": "Müraciətiniz təmin edildi",
        "language": "az",
        "status": "requested",
        "requested_at": "2026-12-01T10:00:00Z",
    }
    fakes.on("intake", "GET", "/visits", (200, [visit]))
    fakes.on("intake", "POST", f"/visits/{VISIT_ID}/outcome", (200, visit))
    fakes.on("intake", "POST", f"/cases/{CASE_ID}/visits", (201, visit))
    client, keys = workspace(tmp_path, fakes)
    async with client:
        await sign_in(client, keys["worker"])
        page = await client.get(f"/cases/{CASE_ID}?lang=en")
        assert "(confidential: not shown to your role)" in page.text
        assert '<td lang="az">Müraciətiniz təmin edildi</td>' in page.text
        assert "decision: eligible" in page.text
        token = csrf_of(page.text)
        await client.post(
            f"/cases/{CASE_ID}/visits/{VISIT_ID}/outcome",
            data={"csrf": token, "outcome": "informed", "visited_at": "2026-12-01T14:30"},
        )
        # A visit id that is not one never reaches intake.
        not_an_id = await client.post(
            f"/cases/{CASE_ID}/visits/v1/outcome",
            data={"csrf": token, "outcome": "informed", "visited_at": "2026-12-01T14:30"},
        )
        assert not_an_id.status_code == 404
        await client.post(f"/cases/{CASE_ID}/visits", data={"csrf": token, "reason": "x" * 201})
        assert "at most 200 characters" in (await client.get(f"/cases/{CASE_ID}")).text
        await client.post(f"/cases/{CASE_ID}/visits", data={"csrf": token, "reason": "papers"})
    [outcome] = fakes.calls("intake", "POST", f"/visits/{VISIT_ID}/outcome")
    assert outcome.content == b'{"visited_at":"2026-12-01T14:30:00+04:00","outcome":"informed"}'
    [planned] = fakes.calls("intake", "POST", f"/cases/{CASE_ID}/visits")
    assert planned.content == b'{"reason":"papers"}'
    # Twice per load of the case (to visit, visited), each for this case alone.
    assert all(
        r.url.params["application_id"] == str(CASE_ID)
        for r in fakes.calls("intake", "GET", "/visits")
    )


async def test_only_social_workers_open_the_page_that_adds_facts(tmp_path: Path) -> None:
    fakes = FakeServices()
    for who in ("reviewer", "operator"):
        client, keys = workspace(tmp_path / who, fakes)
        async with client:
            await sign_in(client, keys[who])
            page = await client.get(f"/cases/{CASE_ID}/facts?lang=en")
        assert page.status_code == 403
        assert "This page is not for your role." in page.text
    assert fakes.calls("intake", "GET", f"/applications/{CASE_ID}") == []
