"""What a citizen sees on the portal: the decision explained in their language, the offer they
may answer, what they may do; and the portal's own door (its role and the citizen's FIN)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID, uuid4

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from intake.portal import allowed, citizen_view, current_offer, explanation
from intake.store import ApplicationRow, JourneyEntry, Status
from socialsvc_common.apikeys import KeyStore, Role
from socialsvc_common.auth import install_api_keys
from socialsvc_common.contract.payloads import Language
from socialsvc_common.explanations import default_explanations
from socialsvc_common.portal import CITIZEN_HEADER, Citizen, citizen
from socialsvc_common.problems import install_problem_handlers
from tests.harness import key_per_role

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
APPLICATION = uuid4()


def step(kind: str, minutes: int, **summary: Any) -> JourneyEntry:
    return JourneyEntry(
        event_id=uuid4(),
        application_id=APPLICATION,
        type=kind,
        time=NOW + timedelta(minutes=minutes),
        summary=summary,
    )


def decided(minutes: int, outcome: str, **facts: Any) -> JourneyEntry:
    return step("eligibility.decision.made", minutes, outcome=outcome, **facts)


def offered(minutes: int, placement: UUID) -> JourneyEntry:
    return step(
        "assignment.placement.made",
        minutes,
        placement_id=str(placement),
        provider_name="Xətai evdə sosial xidmət qrupu",
        provision_type="home_care",
        district="Xətai",
        offer_expires_at=(NOW + timedelta(days=7)).isoformat(),
    )


@pytest.mark.parametrize("language", list(Language))
def test_a_refusal_is_explained_in_the_citizens_language(language: Language) -> None:
    wording = default_explanations()[language]
    reasons = ["no_target_group", "income_above_need_criterion", "rule_added_later"]
    journey = [
        decided(1, "needs_information", missing=["monthly_household_income_azn"]),
        decided(5, "ineligible", reasons=reasons, rule_set_version="2026.2"),
    ]
    told = explanation(journey, wording)
    assert told is not None
    assert (told.outcome, told.rule_set_version) == ("ineligible", "2026.2")
    assert [r.code for r in told.reasons] == reasons
    assert [r.text for r in told.reasons] == [
        wording.reasons["no_target_group"],
        wording.reasons["income_above_need_criterion"],
        wording.fallbacks["reason"],
    ]
    assert told.missing == []


def test_the_portal_tells_the_reasons_the_message_told_not_every_failed_rule() -> None:
    wording = default_explanations()[Language.EN]
    reasons = ["no_target_group", "group_not_served"]
    step = decided(1, "ineligible", reasons=reasons, told=["no_target_group"])
    told = explanation([step], wording)
    assert told is not None
    assert [r.code for r in told.reasons] == ["no_target_group"]


@pytest.mark.parametrize("language", list(Language))
def test_the_facts_asked_for_and_the_services_granted_are_worded(language: Language) -> None:
    wording = default_explanations()[language]
    asked = explanation([decided(1, "needs_information", missing=["disability_group"])], wording)
    granted = explanation([decided(1, "eligible", provision_types=["home_care"])], wording)
    assert asked is not None
    assert granted is not None
    assert [m.text for m in asked.missing] == [wording.missing["disability_group"]]
    assert [p.text for p in granted.provision_types] == [wording.provision_types["home_care"]]
    assert explanation([step("intake.application.received", 0)], wording) is None


def test_the_offer_is_the_latest_placement_not_released_with_the_status_it_reached() -> None:
    wording = default_explanations()[Language.EN]
    first, second = uuid4(), uuid4()
    journey = [offered(1, first)]
    offer = current_offer(journey, wording)
    assert offer is not None
    assert (offer.placement_id, offer.status) == (first, "offered")
    assert offer.expires_at == NOW + timedelta(days=7)
    assert offer.provision_type is not None
    assert offer.provision_type.text == "home care"
    journey += [
        step("assignment.placement.released", 2, placement_id=str(first), reason="declined")
    ]
    assert current_offer(journey, wording) is None
    journey += [
        offered(3, second),
        step("assignment.placement.updated", 4, placement_id=str(second), status="accepted"),
    ]
    offer = current_offer(journey, wording)
    assert offer is not None
    assert (offer.placement_id, offer.status) == (second, "accepted")
    # A journey recorded before steps named their placement shows no offer to answer.
    old = step("assignment.placement.made", 1, provider_name="x", provision_type="home_care")
    assert current_offer([old], wording) is None


def test_what_the_citizen_may_do_follows_the_status_and_the_offer() -> None:
    wording = default_explanations()[Language.AZ]
    offer = current_offer([offered(1, uuid4())], wording)
    assert allowed(Status.NEEDS_INFORMATION, None) == ["add_facts", "withdraw"]
    assert allowed(Status.PLACED, offer) == ["accept_offer", "decline_offer", "withdraw"]
    assert allowed(Status.INELIGIBLE, None) == ["withdraw"]
    assert allowed(Status.WITHDRAWN, offer) == []


def test_the_view_leaves_out_who_on_the_staff_side_did_each_step() -> None:
    row = ApplicationRow(
        id=APPLICATION,
        fin="1AB2C3D",
        service_requested="home_care",
        channel="egov",
        status="placed",
        form="{}",
        submitted_at=NOW,
        updated_at=NOW,
    )
    entry = offered(1, uuid4())
    entry.actor = "operator:leyla.ops"
    view = citizen_view(row, [entry], default_explanations()[Language.RU], Language.RU)
    assert view.reference == APPLICATION.hex[:4].upper() + "-" + APPLICATION.hex[4:8].upper()
    assert "leyla" not in view.model_dump_json()
    assert "1AB2C3D" not in view.model_dump_json()
    assert view.offer is not None
    assert view.may == ["accept_offer", "decline_offer", "withdraw"]


@pytest.fixture
def portal(tmp_path: Path) -> tuple[TestClient, dict[Role, str]]:
    store = tmp_path / "keys.jsonl"
    keys = key_per_role(store, "t")
    app = FastAPI()
    install_problem_handlers(app)
    install_api_keys(app, KeyStore.load(store))

    @app.get("/portal/me")
    async def me(person: Annotated[Citizen, citizen()]) -> dict[str, str]:
        return {"actor": str(person.actor), "ref": person.person_ref(b"k" * 16)}

    return TestClient(app), keys


def test_the_portal_names_the_citizen_in_a_header_checked_like_the_forms_fin(
    portal: tuple[TestClient, dict[Role, str]],
) -> None:
    client, keys = portal
    as_portal = {"Authorization": f"Bearer {keys[Role.CITIZEN_PORTAL]}"}
    answered = client.get("/portal/me", headers=as_portal | {CITIZEN_HEADER: "1AB2C3D"})
    assert answered.status_code == 200
    assert answered.json()["actor"] == "citizen_portal:t-citizen_portal"
    assert "1AB2C3D" not in answered.text
    for headers in ({}, {CITIZEN_HEADER: "1ab2c3d"}, {CITIZEN_HEADER: "1AB2C3D9"}):
        refused = client.get("/portal/me", headers=as_portal | headers)
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["errors"][0]["field"] == f"header.{CITIZEN_HEADER}"
        assert "1ab2c3d" not in refused.text
        assert "1AB2C3D9" not in refused.text


def test_only_the_portal_speaks_for_a_citizen(portal: tuple[TestClient, dict[Role, str]]) -> None:
    client, keys = portal
    fin = {CITIZEN_HEADER: "1AB2C3D"}
    assert client.get("/portal/me", headers=fin).status_code == 401
    assert client.get("/portal/me").status_code == 401  # who asks is checked first
    for role in (Role.SUBMITTER, Role.SOCIAL_WORKER, Role.OPERATOR):
        refused = client.get("/portal/me", headers=fin | {"X-API-Key": keys[role]})
        assert refused.status_code == 403, role
