"""Policy simulation on nine applications around the income need criterion, diff computed by hand.

The stored decisions are made by the real rule set 2026.1 (criterion 300 AZN per household member),
as eligibility stores them; the candidate is the same file with the criterion raised to 350.
"""

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from eligibility.rules import decide
from eligibility.ruleset import POLICY_DIR, RuleSet, load_rule_set
from eligibility.simulate_cli import fetch_free_places, render_json, render_table
from eligibility.simulation import (
    Move,
    PlacesNeeded,
    RuleChange,
    RuleVerdict,
    Shift,
    StoredApplication,
    replayed,
    simulate,
    stored_application,
)
from socialsvc_common.contract.payloads import (
    Applicant,
    ApplicationReceived,
    Circumstances,
    DecisionMade,
    Outcome,
    ProvisionType,
    ServiceRequested,
    TargetGroup,
)

CURRENT = load_rule_set(POLICY_DIR / "2026-1.toml")
DECIDED_ON = date(2026, 3, 14)
AGED_40 = date(1986, 1, 10)
AGED_80 = date(1946, 1, 10)
TURNS_65_NEXT_DAY = date(1961, 3, 15)  # 64 when decided; replayed "today" they would be elderly

INCOME, HELP = "monthly_household_income_azn", "activities_needing_help"

# letter: district, birth date, circumstances (income per month for the whole household).
CASES: dict[str, tuple[str, date, dict[str, Any]]] = {
    "A": ("Yasamal", AGED_40, {INCOME: "280"}),  # low income both times
    "B": ("Xətai", AGED_40, {INCOME: "300"}),  # exactly the old criterion
    "C": ("Yasamal", AGED_40, {INCOME: "320"}),  # between the two: moves
    "D": ("Xətai", AGED_40, {INCOME: "350"}),  # exactly the new criterion: moves
    "E": ("Yasamal", AGED_40, {INCOME: "351"}),  # above both
    "F": ("Xətai", AGED_40, {INCOME: "700", "household_size": 2}),  # 350 a head: moves
    "G": ("Yasamal", AGED_80, {INCOME: "320", HELP: ["washing"]}),  # home care both times
    "H": ("Yasamal", AGED_40, {}),  # income not stated: needs information both times
    "J": ("Xətai", TURNS_65_NEXT_DAY, {INCOME: "5000", HELP: ["washing"]}),  # not elderly yet
}


def application_id(letter: str) -> UUID:
    return UUID(int=ord(letter))


def original(letter: str) -> ApplicationReceived:
    district, birth_date, circumstances = CASES[letter]
    return ApplicationReceived(
        application_id=application_id(letter),
        submitted_at=datetime(2026, 3, 14, 9, 30, tzinfo=UTC),
        channel="web",
        service_requested=ServiceRequested.ANY,
        applicant=Applicant(
            fin="5ZK8L2P",
            first_name="Aygün",
            last_name="Məmmədova",
            birth_date=birth_date,
            mobile_phone="+994501234567",
            district=district,
        ),
        circumstances=Circumstances.model_validate(circumstances),
    )


def stored(letter: str) -> StoredApplication:
    """As eligibility's handler stores it: facts without identity, the DecisionMade as JSON."""
    application = original(letter)
    decision = decide(application, CURRENT, DECIDED_ON)
    made = DecisionMade(
        application_id=application.application_id,
        decided_at=datetime(2026, 3, 14, 9, 31, tzinfo=UTC),
        district=application.applicant.district,
        **decision.model_dump(),
    )
    facts = application.model_dump(mode="json", include={"service_requested", "circumstances"})
    facts["birth_date"] = application.applicant.birth_date.isoformat()
    return stored_application(
        application.application_id,
        application.applicant.district,
        DECIDED_ON,
        facts,
        made.model_dump(mode="json"),
    )


STORED = [stored(letter) for letter in CASES]


@pytest.fixture
def candidate(tmp_path: Path) -> RuleSet:
    text = (POLICY_DIR / "2026-1.toml").read_text(encoding="utf-8")
    edited = text.replace('version = "2026.1"', 'version = "2026.2"').replace(
        "need_criterion_azn = 300", "need_criterion_azn = 350"
    )
    assert edited.count("350") == 1
    path = tmp_path / "2026-2.toml"
    path.write_text(edited, encoding="utf-8")
    return load_rule_set(path)


def by_outcome(eligible: int, ineligible: int, needs_information: int) -> dict[Outcome, int]:
    return {
        Outcome.ELIGIBLE: eligible,
        Outcome.INELIGIBLE: ineligible,
        Outcome.NEEDS_INFORMATION: needs_information,
    }


def shifts(before: dict[Outcome, int], after: dict[Outcome, int]) -> dict[Outcome, Shift]:
    return {o: Shift(before[o], after[o], after[o] - before[o]) for o in Outcome}


def now_passes(rule: str, reason: str) -> RuleChange:
    return RuleChange(rule, RuleVerdict(passed=False, reason=reason), RuleVerdict(True, None))


def test_outcome_counts_before_and_after(candidate: RuleSet) -> None:
    report = simulate(STORED, candidate)

    assert report.candidate_version == "2026.2"
    assert report.applications == 9
    assert report.decided_by == {"2026.1": 9}
    # Before: A, B, G eligible; C, D, E, F, J not; H waits for its income.
    # After: C (320), D (350, at the new criterion) and F (350 a head) become eligible.
    assert report.by_outcome == shifts(by_outcome(3, 5, 1), by_outcome(6, 2, 1))


def test_counts_by_group_and_district(candidate: RuleSet) -> None:
    report = simulate(STORED, candidate)

    assert report.by_group == {
        TargetGroup.ELDERLY: shifts(by_outcome(1, 0, 0), by_outcome(1, 0, 0)),  # G
        # A, B before; C, D, F join, and G is now low-income as well as elderly.
        TargetGroup.LOW_INCOME_FAMILY: shifts(by_outcome(2, 0, 0), by_outcome(6, 0, 0)),
    }
    assert report.by_district == {
        "Xətai": shifts(by_outcome(1, 3, 0), by_outcome(3, 1, 0)),  # B; D, F move; J stays
        "Yasamal": shifts(by_outcome(2, 2, 1), by_outcome(3, 1, 1)),  # A, G; C moves; E; H
    }


def test_movers_and_why(candidate: RuleSet) -> None:
    report = simulate(STORED, candidate)

    why = (
        now_passes("target_group", "no_target_group"),
        now_passes("income_need_criterion", "income_above_need_criterion"),
        now_passes("provision_ngo_project", "group_not_served"),
        now_passes("requested_service", "no_need_for_any_service"),
    )
    assert report.movers == [
        Move(application_id(letter), CASES[letter][0], Outcome.INELIGIBLE, Outcome.ELIGIBLE, why)
        for letter in "CDF"
    ]


def test_places_needed_against_free_places(candidate: RuleSet) -> None:
    free = {ProvisionType.HOME_CARE: 4, ProvisionType.NGO_PROJECT: 1}
    report = simulate(STORED, candidate, free)

    # G ranks home care first both times; A, B then also C, D, F rank NGO projects first.
    assert report.places == {
        ProvisionType.HOME_CARE: PlacesNeeded(1, 1, 0, free_places=4, short_by=0),
        ProvisionType.RESIDENTIAL: PlacesNeeded(0, 0, 0, free_places=0, short_by=0),
        ProvisionType.NGO_PROJECT: PlacesNeeded(2, 5, 3, free_places=1, short_by=2),
    }


def test_capacity_unknown(candidate: RuleSet) -> None:
    report = simulate(STORED, candidate, None)

    ngo = report.places[ProvisionType.NGO_PROJECT]
    assert (ngo.before, ngo.after, ngo.free_places, ngo.short_by) == (2, 5, None, None)


def test_replaying_with_the_rule_set_that_decided_moves_nothing() -> None:
    report = simulate(STORED, CURRENT)

    assert report.movers == []
    assert all(shift.change == 0 for shift in report.by_outcome.values())


@pytest.mark.parametrize("letter", list(CASES))
def test_placeholder_identity_decides_as_the_real_one(letter: str) -> None:
    # The rules read the birth date and circumstances, never names, FIN, phone or district.
    replay = replayed(stored(letter))

    assert decide(replay, CURRENT, DECIDED_ON) == decide(original(letter), CURRENT, DECIDED_ON)


def test_table_and_json_name_the_movers(candidate: RuleSet) -> None:
    report = simulate(STORED, candidate)

    table = render_table(report)
    assert "Applications that move: 3 (ineligible -> eligible: 3)" in table
    assert "income_need_criterion failed (income_above_need_criterion) -> passed" in table
    rows = [line.split() for line in table.splitlines()]
    assert ["ngo_project", "2", "5", "+3", "?", "?"] in rows
    assert f'"application_id": "{application_id("C")}"' in render_json(report)


def test_free_places_summed_per_direction_from_the_ledger() -> None:
    ledger = [
        {"provider_id": "a", "provision_type": "home_care", "capacity": 10, "used": 4, "name": "A"},
        {"provider_id": "b", "provision_type": "home_care", "capacity": 5, "used": 7, "name": "B"},
        {
            "provider_id": "c",
            "provision_type": "ngo_project",
            "capacity": 3,
            "used": 0,
            "name": "C",
        },
    ]
    asked: list[str] = []

    def assignment(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(200, json=ledger)

    free = fetch_free_places("http://assignment/", httpx.MockTransport(assignment))

    assert asked == ["http://assignment/providers"]
    # B is over-full (capacity cut below use): it takes no places from A.
    assert free == {
        ProvisionType.HOME_CARE: 6,
        ProvisionType.RESIDENTIAL: 0,
        ProvisionType.NGO_PROJECT: 3,
    }


@pytest.mark.parametrize(
    "response", [httpx.Response(503), httpx.Response(200, json=[{"provider_id": "a"}])]
)
def test_free_places_unknown_when_assignment_fails(
    response: httpx.Response, capsys: pytest.CaptureFixture[str]
) -> None:
    transport = httpx.MockTransport(lambda request: response)

    assert fetch_free_places("http://assignment", transport) is None
    assert "assignment unavailable at http://assignment/providers" in capsys.readouterr().err
