"""The ministry demo's people: valid forms, the articles' mix as the platform's own rules decide
it, real districts by population, the three languages; and how the demo answers and retries."""

import re
from collections import Counter
from datetime import UTC, date, datetime
from uuid import uuid4

import httpx
import pytest

from deploy.demo.ministry.calls import send
from deploy.demo.ministry.offers import answer_for
from deploy.demo.ministry.people import PROFILES, People, Person
from deploy.demo.ministry.places import load_country
from eligibility.rules import decide
from eligibility.ruleset import default_rule_sets, rule_set_for
from socialsvc_common.contract.payloads import (
    FIN_PATTERN,
    ApplicationForm,
    ApplicationReceived,
    TargetGroup,
)

TODAY = date(2026, 12, 6)
COUNTRY = load_country()
RULES = rule_set_for(default_rule_sets(), TODAY)


def people(count: int, seed: int = 2019) -> list[Person]:
    return list(People(COUNTRY, seed, TODAY.year)(count))


def decided(person: Person) -> tuple[str, list[TargetGroup]]:
    """Where eligibility's own rules send the person: a provision type or the outcome."""
    form = ApplicationForm.model_validate(person.form)
    received = ApplicationReceived(
        application_id=uuid4(),
        submitted_at=datetime.now(UTC),
        channel="web",
        service_requested=form.service_requested,
        applicant=form.applicant,
        circumstances=form.circumstances,
    )
    decision = decide(received, RULES, TODAY)
    if decision.outcome.value == "eligible":
        return decision.provision_types[0].value, decision.groups
    return {"ineligible": "refused"}.get(decision.outcome.value, decision.outcome.value), []


@pytest.fixture(scope="module")
def thousands() -> list[Person]:
    return people(4_000)


def test_every_form_is_valid_with_synthetic_identities(thousands: list[Person]) -> None:
    fins = [p.form["applicant"]["fin"] for p in thousands]
    assert len(set(fins)) == len(fins) == 4_000
    assert all(re.fullmatch(FIN_PATTERN, fin) for fin in fins)
    for person in thousands:
        form = ApplicationForm.model_validate(person.form)
        assert re.fullmatch(r"\+994\d{9}", form.applicant.mobile_phone)
    assert len({p.idempotency_key(2019) for p in thousands}) == 4_000


def test_the_rules_send_each_person_where_the_profile_says(thousands: list[Person]) -> None:
    sample = thousands[:600]
    directions, groups = Counter[str](), set[TargetGroup]()
    for person in sample:
        direction, found = decided(person)
        assert direction == person.profile.direction, person.profile.name
        directions[direction] += 1
        groups.update(found)
    assert groups == set(TargetGroup)
    # Mostly home care, then NGO projects; an institution for few.
    assert directions["home_care"] > directions["ngo_project"] > 5 * directions["residential"]
    assert directions["refused"] > 0
    assert directions["needs_information"] > 0


def test_the_mix_is_the_profiles_shares_exactly(thousands: list[Person]) -> None:
    assert sum(p.share for p in PROFILES) == pytest.approx(1)
    counts = Counter(p.profile.name for p in thousands)
    for profile in PROFILES:
        # One of each is set aside first, so a small run has every profile.
        assert abs(counts[profile.name] - profile.share * 4_000) <= 8, profile.name
    assert counts.most_common(1)[0][0] == "elderly_alone_at_home"


def test_a_small_run_still_has_every_profile() -> None:
    assert {p.profile.name for p in people(150)} == {p.name for p in PROFILES}


def test_people_live_in_real_districts_by_population(thousands: list[Person]) -> None:
    districts = Counter(p.form["applicant"]["district"] for p in thousands)
    assert set(districts) <= set(COUNTRY.units())
    baku = sum(n for d, n in districts.items() if COUNTRY.geography.region_of(d) == "Bakı")
    share = COUNTRY.weight_of_region("Bakı") / sum(COUNTRY.population.values())
    assert abs(baku / 4_000 - share) < 0.03
    assert districts["Xətai"] > districts["Xızı"]


def test_three_languages_azerbaijani_first(thousands: list[Person]) -> None:
    languages = Counter(p.form["applicant"]["language"] for p in thousands)
    assert set(languages) == {"az", "ru", "en"}
    assert languages["az"] > languages["ru"] > languages["en"]


def test_the_same_seed_gives_the_same_people_and_another_seed_others() -> None:
    assert [p.form for p in people(50)] == [p.form for p in people(50)]
    assert [p.form for p in people(50, seed=1)] != [p.form for p in people(50)]


def test_offers_are_answered_in_the_planned_shares_and_always_alike() -> None:
    ids = [str(uuid4()) for _ in range(20_000)]
    answers = Counter(answer_for(7, i) for i in ids)
    assert abs(answers["decline"] / 20_000 - 0.07) < 0.01
    assert abs(answers["leave_open"] / 20_000 - 0.02) < 0.006
    assert answers["start"] > 0.85 * 20_000
    # The seed decides the answers: another seed answers the same offers otherwise.
    assert [answer_for(8, i) for i in ids[:100]] != [answer_for(7, i) for i in ids[:100]]


async def test_busy_answers_are_retried_after_the_wait_they_ask_for() -> None:
    answers = iter(
        [
            httpx.Response(503, headers={"Retry-After": "0"}),
            httpx.Response(429, headers={"Retry-After": "0"}),
            httpx.Response(202, json={"ok": True}),
        ]
    )
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Idempotency-Key"])
        return next(answers)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        response = await send(
            client, "POST", "http://intake/applications", headers={"Idempotency-Key": "k-1"}
        )
    assert response.status_code == 202
    assert seen == ["k-1", "k-1", "k-1"]


async def test_a_refusal_is_not_retried() -> None:
    calls = Counter[str]()

    def handler(request: httpx.Request) -> httpx.Response:
        calls["made"] += 1
        return httpx.Response(422, json={"title": "Invalid"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        response = await send(client, "POST", "http://intake/applications")
    assert (response.status_code, calls["made"]) == (422, 1)
