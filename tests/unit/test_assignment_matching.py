"""Matching and waitlist rules of the assignment service, on hand-built providers and decisions."""

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from assignment.matching import (
    Choice,
    NothingToPlace,
    ProviderCapacity,
    WaitlistEntry,
    choose_provider,
    fits,
    waitlist_order,
    waitlist_provision,
)
from assignment.registry import HomeCareTeam, Institution, NgoProject, Provider, load_providers
from socialsvc_common.contract.payloads import DecisionMade, Outcome, ProvisionType, TargetGroup
from socialsvc_common.geography import Proximity, UnknownUnit, load_geography

HOME, RESIDENTIAL, NGO = (
    ProvisionType.HOME_CARE,
    ProvisionType.RESIDENTIAL,
    ProvisionType.NGO_PROJECT,
)
ELDERLY, DISABILITY = TargetGroup.ELDERLY, TargetGroup.DISABILITY
ON = date(2026, 11, 22)
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
GEO = load_geography()


def decision(
    *,
    district: str = "Xətai",
    types: Sequence[ProvisionType] = (HOME,),
    groups: Sequence[TargetGroup] = (ELDERLY,),
    score: float | None = 50.0,
    decided_at: datetime = T0,
    outcome: Outcome = Outcome.ELIGIBLE,
) -> DecisionMade:
    return DecisionMade(
        application_id=uuid.uuid4(),
        decided_at=decided_at,
        outcome=outcome,
        rule_set_version="test-1",
        district=district,
        groups=list(groups),
        priority_score=score,
        provision_types=list(types),
    )


def team(provider_id: str, district: str, limit: int = 20) -> HomeCareTeam:
    return HomeCareTeam(id=provider_id, name=provider_id, district=district, caseload_limit=limit)


def institution(
    provider_id: str, district: str, groups: Sequence[TargetGroup] = (ELDERLY,), places: int = 10
) -> Institution:
    return Institution(
        id=provider_id, name=provider_id, district=district, places=places, target_groups=groups
    )


def project(
    provider_id: str,
    districts: Sequence[str],
    groups: Sequence[TargetGroup] = (ELDERLY,),
    start: date = date(2026, 1, 1),
    end: date = date(2027, 12, 31),
) -> NgoProject:
    return NgoProject(
        id=provider_id,
        name=provider_id,
        organisation="Sınaq İctimai Birliyi",
        districts=tuple(districts),
        capacity=10,
        target_groups=tuple(groups),
        contract_start=start,
        contract_end=end,
    )


def choose(d: DecisionMade, *providers: Provider, used: int = 0) -> Choice | None:
    return choose_provider(d, [ProviderCapacity(p, used) for p in providers], GEO, ON)


def chosen_id(d: DecisionMade, *providers: Provider) -> str | None:
    choice = choose(d, *providers)
    return None if choice is None else choice.provider.id


# --- choose_provider ---------------------------------------------------------------------------


def test_residential_prefers_district_then_region_then_anywhere() -> None:
    d = decision(district="Xətai", types=[RESIDENTIAL])
    here, region, far = (
        institution("c-here", "Xətai"),
        institution("a-region", "Yasamal"),
        institution("b-far", "Gəncə"),
    )
    assert chosen_id(d, far, region, here) == "c-here"
    assert chosen_id(d, far, region) == "a-region"
    choice = choose(d, far)
    assert choice == Choice(far, RESIDENTIAL, Proximity.COUNTRY)


def test_ngo_project_serves_its_districts_and_region_but_not_elsewhere() -> None:
    d = decision(district="Qusar", types=[NGO])
    assert chosen_id(d, project("b-region", ["Quba"]), project("a-here", ["Xaçmaz", "Qusar"])) == (
        "a-here"
    )
    assert chosen_id(d, project("b-region", ["Quba"])) == "b-region"
    assert chosen_id(d, project("far", ["Gəncə"])) is None


def test_home_care_never_leaves_the_persons_district() -> None:
    d = decision(district="Xətai", types=[HOME])
    assert chosen_id(d, team("hc-yasamal", "Yasamal"), team("hc-baki", "Bakı")) is None
    assert chosen_id(d, team("hc-yasamal", "Yasamal"), team("hc-xetai", " Xətai")) == "hc-xetai"


def test_home_care_takes_anyone_eligible_for_it_whatever_their_groups() -> None:
    assert chosen_id(decision(groups=[]), team("hc-xetai", "Xətai")) == "hc-xetai"


def test_among_equals_most_free_places_then_id() -> None:
    d = decision(district="Quba", types=[RESIDENTIAL])
    small, large = institution("a", "Qusar", places=5), institution("b", "Xaçmaz", places=9)
    assert chosen_id(d, small, large) == "b"
    twin = institution("c", "Şabran", places=9)
    assert chosen_id(d, twin, large) == "b"


def test_free_places_count_not_size() -> None:
    d = decision(district="Quba", types=[RESIDENTIAL])
    big_but_busy = ProviderCapacity(institution("a", "Qusar", places=50), used=48)
    small_but_free = ProviderCapacity(institution("b", "Xaçmaz", places=5), used=0)
    choice = choose_provider(d, [big_but_busy, small_but_free], GEO, ON)
    assert choice is not None
    assert choice.provider.id == "b"


def test_full_providers_are_skipped() -> None:
    d = decision(district="Xətai", types=[RESIDENTIAL])
    full = ProviderCapacity(institution("full", "Xətai", places=3), used=3)
    over = ProviderCapacity(institution("over", "Xətai", places=3), used=4)
    assert choose_provider(d, [full, over], GEO, ON) is None
    free = ProviderCapacity(institution("free", "Gəncə", places=3), used=2)
    choice = choose_provider(d, [full, over, free], GEO, ON)
    assert choice is not None
    assert choice.provider.id == "free"


def test_contract_must_be_active_on_the_day() -> None:
    d = decision(district="Quba", types=[NGO])
    expired = project("expired", ["Quba"], start=date(2024, 1, 1), end=date(2026, 11, 21))
    future = project("future", ["Quba"], start=date(2026, 11, 23))
    last_day = project("last-day", ["Qusar"], end=ON)
    assert chosen_id(d, expired, future) is None
    assert chosen_id(d, expired, future, last_day) == "last-day"


def test_institutions_and_projects_take_only_their_groups() -> None:
    d = decision(district="Xətai", types=[RESIDENTIAL, NGO], groups=[DISABILITY])
    elderly_home = institution("elderly-home", "Xətai", groups=[ELDERLY])
    elderly_project = project("elderly-project", ["Xətai"], groups=[ELDERLY])
    assert chosen_id(d, elderly_home, elderly_project) is None
    mixed = institution("mixed", "Gəncə", groups=[ELDERLY, DISABILITY])
    assert chosen_id(d, elderly_home, elderly_project, mixed) == "mixed"


def test_provision_types_are_tried_in_the_decisions_order() -> None:
    near_project = project("near-project", ["Xətai"])
    far_home = institution("far-home", "Gəncə")
    assert chosen_id(decision(types=[RESIDENTIAL, NGO]), near_project, far_home) == "far-home"
    assert chosen_id(decision(types=[NGO, RESIDENTIAL]), near_project, far_home) == "near-project"
    choice = choose(decision(types=[HOME, NGO]), near_project, far_home)
    assert choice == Choice(near_project, NGO, Proximity.DISTRICT)


def test_a_decision_without_provision_types_cannot_be_placed() -> None:
    with pytest.raises(NothingToPlace):
        choose(decision(outcome=Outcome.INELIGIBLE), team("hc-xetai", "Xətai"))
    with pytest.raises(NothingToPlace):
        waitlist_provision(decision(types=[]))


def test_an_unknown_district_on_the_decision_is_a_typed_error() -> None:
    with pytest.raises(UnknownUnit, match="Atlantida"):
        choose(decision(district="Atlantida"), team("hc-xetai", "Xətai"))
    with pytest.raises(UnknownUnit, match="Atlantida"):
        choose(decision(district="Atlantida"))


def test_shipped_registry_gives_everyone_a_home_care_team_in_their_own_unit() -> None:
    providers = [ProviderCapacity(p, 0) for p in load_providers()]
    for unit in GEO.units():
        choice = choose_provider(decision(district=unit), providers, GEO, ON)
        assert choice is not None
        assert choice.provider.districts == (unit,)


def test_shipped_registry_sends_released_prisoners_to_the_qobustan_centre() -> None:
    providers = [ProviderCapacity(p, 0) for p in load_providers()]
    d = decision(
        district="Lənkəran", types=[RESIDENTIAL], groups=[TargetGroup.RELEASED_FROM_PRISON]
    )
    choice = choose_provider(d, providers, GEO, ON)
    assert choice is not None
    assert choice.provider.id == "inst-adaptasiya-qobustan"


# --- waitlist ----------------------------------------------------------------------------------


def entry(score: float | None, minutes: int = 0, **changes: object) -> WaitlistEntry:
    d = decision(score=score, decided_at=T0 + timedelta(minutes=minutes))
    return WaitlistEntry.from_decision(d.model_copy(update=changes))


def test_waitlist_provision_is_the_first_ranked_type() -> None:
    assert waitlist_provision(decision(types=[NGO, RESIDENTIAL])) is NGO


def test_waitlist_order_is_priority_then_decision_time_then_application() -> None:
    low, high_late, high_early = entry(10.0), entry(90.0, minutes=5), entry(90.0, minutes=1)
    unscored = entry(None)
    same = [entry(50.0, application_id=uuid.UUID(int=n)) for n in (3, 1, 2)]
    ordered = waitlist_order([low, unscored, *same, high_late, high_early])
    assert ordered[:2] == [high_early, high_late]
    assert [e.application_id.int for e in ordered[2:5]] == [1, 2, 3]
    assert ordered[5:] == [low, unscored]
    assert unscored.priority_score == 0.0


def test_fits_follows_the_same_rules_as_choosing() -> None:
    waiting = WaitlistEntry.from_decision(decision(district="Quba", types=[NGO, HOME]))
    assert waiting.provision_type is NGO
    assert fits(waiting, project("region", ["Qusar"]), GEO, ON)
    assert not fits(waiting, project("far", ["Gəncə"]), GEO, ON)
    assert not fits(waiting, project("other-group", ["Quba"], groups=[DISABILITY]), GEO, ON)
    assert not fits(waiting, project("ended", ["Quba"], end=date(2026, 1, 31)), GEO, ON)
    assert not fits(waiting, team("hc-quba", "Quba"), GEO, ON)
