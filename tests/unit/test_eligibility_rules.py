import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from eligibility.assessment import age_band_of, age_on
from eligibility.rules import Decision, decide
from eligibility.ruleset import Income, RuleSet, default_rule_sets, rule_set_for
from socialsvc_common.contract.explanation import MissingFact, Reason, RuleName
from socialsvc_common.contract.payloads import (
    AgeBand,
    Applicant,
    ApplicationReceived,
    Circumstances,
    DailyActivity,
    DecisionMade,
    Outcome,
    ProvisionType,
    RuleResult,
    ServiceRequested,
    TargetGroup,
)

TODAY = date(2026, 3, 15)
RULES = rule_set_for(default_rule_sets(), TODAY)

AGED_80 = date(1946, 1, 10)
AGED_40 = date(1986, 1, 10)
AGED_10 = date(2016, 1, 10)
RICH = Decimal("5000")  # well above the need criterion, to shut the low-income route

A = DailyActivity
WASHING = [A.WASHING]  # score 3: level 1
LEVEL_2 = [A.WASHING, A.EATING]  # score 6: exactly the level-2 minimum
LEVEL_3 = [A.WASHING, A.EATING, A.MOVING_ABOUT, A.TOILET]  # score 12: exactly level 3

HOME = ProvisionType.HOME_CARE
RESIDENTIAL = ProvisionType.RESIDENTIAL
NGO = ProvisionType.NGO_PROJECT


def application(
    service: ServiceRequested = ServiceRequested.ANY,
    birth_date: date = AGED_40,
    **circumstances: Any,
) -> ApplicationReceived:
    return ApplicationReceived(
        application_id=uuid4(),
        submitted_at=datetime(2026, 3, 14, 9, 30, tzinfo=UTC),
        channel="web",
        service_requested=service,
        applicant=Applicant(
            fin="5ZK8L2P",
            first_name="Aygün",
            last_name="Məmmədova",
            birth_date=birth_date,
            mobile_phone="+994501234567",
            district="Yasamal",
        ),
        circumstances=Circumstances(**circumstances),
    )


def decided(
    service: ServiceRequested = ServiceRequested.ANY,
    birth_date: date = AGED_40,
    rule_set: RuleSet = RULES,
    **circumstances: Any,
) -> Decision:
    return decide(application(service, birth_date, **circumstances), rule_set, TODAY)


def rule(decision: Decision, name: RuleName) -> RuleResult:
    (found,) = [result for result in decision.rules if result.rule == name]
    return found


def reasons(decision: Decision) -> set[str | None]:
    return {result.reason for result in decision.rules if not result.passed}


# Age


@pytest.mark.parametrize(
    ("birth_date", "day", "age"),
    [
        (date(1961, 3, 15), date(2026, 3, 15), 65),
        (date(1961, 3, 15), date(2026, 3, 14), 64),
        (date(1960, 2, 29), date(2025, 2, 28), 64),
        (date(1960, 2, 29), date(2025, 3, 1), 65),
    ],
)
def test_age_is_counted_in_full_years(birth_date: date, day: date, age: int) -> None:
    assert age_on(birth_date, day) == age


def test_a_person_is_elderly_from_the_65th_birthday() -> None:
    decision = decided(birth_date=date(1961, 3, 15), activities_needing_help=WASHING)
    assert decision.groups == [TargetGroup.ELDERLY]
    assert decision.outcome is Outcome.ELIGIBLE
    assert decision.provision_types == [HOME]


def test_a_person_is_not_elderly_the_day_before() -> None:
    decision = decided(
        birth_date=date(1961, 3, 16),
        activities_needing_help=WASHING,
        monthly_household_income_azn=RICH,
    )
    assert decision.groups == []
    assert decision.outcome is Outcome.INELIGIBLE
    assert rule(decision, RuleName.TARGET_GROUP).facts["age"] == 64
    assert {Reason.NO_TARGET_GROUP, Reason.INCOME_ABOVE_NEED_CRITERION} <= reasons(decision)


# Income


def test_income_exactly_at_the_need_criterion_is_low_income() -> None:
    decision = decided(household_size=3, monthly_household_income_azn=Decimal("900"))
    assert decision.outcome is Outcome.ELIGIBLE
    assert decision.groups == [TargetGroup.LOW_INCOME_FAMILY]
    assert decision.provision_types == [NGO]
    income = rule(decision, RuleName.INCOME_NEED_CRITERION)
    assert income.passed
    assert income.facts["per_capita_income_azn"] == "300.00"
    assert income.threshold == "300"


def test_income_a_cent_above_the_need_criterion_is_not() -> None:
    decision = decided(household_size=3, monthly_household_income_azn=Decimal("900.03"))
    assert decision.outcome is Outcome.INELIGIBLE
    assert decision.groups == []
    assert reasons(decision) >= {
        Reason.NO_TARGET_GROUP,
        Reason.INCOME_ABOVE_NEED_CRITERION,
        Reason.NO_NEED_FOR_ANY_SERVICE,
    }


def test_the_need_criterion_is_policy_not_code() -> None:
    generous = RULES.model_copy(update={"income": Income(need_criterion_azn=Decimal("1000"))})
    decision = decided(rule_set=generous, monthly_household_income_azn=Decimal("900.03"))
    assert decision.outcome is Outcome.ELIGIBLE


# Dependency score and need level


@pytest.mark.parametrize(
    ("activities", "score", "level"),
    [
        ([A.HOUSEWORK], 1, 0),
        ([A.HOUSEWORK, A.SHOPPING], 2, 1),
        ([A.WASHING, A.DRESSING], 5, 1),
        (LEVEL_2, 6, 2),
        ([A.WASHING, A.EATING, A.MOVING_ABOUT, A.DRESSING], 11, 2),
        (LEVEL_3, 12, 3),
        (list(DailyActivity), 18, 3),
        ([A.WASHING, A.WASHING, A.EATING], 6, 2),  # an activity counts once
    ],
)
def test_need_level_starts_exactly_at_its_minimum_score(
    activities: list[DailyActivity], score: int, level: int
) -> None:
    decision = decided(birth_date=AGED_80, activities_needing_help=activities)
    dependency = rule(decision, RuleName.DEPENDENCY)
    assert dependency.facts["dependency_score"] == score
    assert dependency.facts["need_level"] == level
    assert dependency.threshold == {"need_level_min_scores": [2, 6, 12]}


# Each target group and the direction it leads to


@pytest.mark.parametrize(
    ("birth_date", "circumstances", "groups", "provisions"),
    [
        (AGED_80, {"activities_needing_help": WASHING}, [TargetGroup.ELDERLY], [HOME]),
        (
            AGED_80,
            {"lives_alone": True, "activities_needing_help": LEVEL_2},
            [TargetGroup.ELDERLY, TargetGroup.ELDERLY_ALONE],
            [HOME, RESIDENTIAL],
        ),
        (
            AGED_40,
            {"disability_group": 2, "activities_needing_help": WASHING},
            [TargetGroup.DISABILITY],
            [HOME],
        ),
        (AGED_10, {"disability_group": 1}, [TargetGroup.CHILD_WITH_DISABILITY], [NGO]),
        (AGED_40, {"child_with_disability": True}, [TargetGroup.CHILD_WITH_DISABILITY], [NGO]),
        (AGED_40, {"trafficking_victim": True}, [TargetGroup.TRAFFICKING_VICTIM], [NGO]),
        (
            AGED_40,
            {"domestic_violence_victim": True},
            [TargetGroup.DOMESTIC_VIOLENCE_VICTIM],
            [NGO],
        ),
        (AGED_40, {"released_from_prison": True}, [TargetGroup.RELEASED_FROM_PRISON], [NGO]),
        (
            date(2006, 1, 1),
            {"children_institution_graduate": True},
            [TargetGroup.INSTITUTION_GRADUATE],
            [NGO],
        ),
        (
            AGED_40,
            {"household_size": 4, "monthly_household_income_azn": Decimal("800")},
            [TargetGroup.LOW_INCOME_FAMILY],
            [NGO],
        ),
    ],
)
def test_each_target_group_is_recognised_and_served(
    birth_date: date,
    circumstances: dict[str, Any],
    groups: list[TargetGroup],
    provisions: list[ProvisionType],
) -> None:
    decision = decided(birth_date=birth_date, **circumstances)
    assert decision.outcome is Outcome.ELIGIBLE
    assert decision.groups == groups
    assert decision.provision_types == provisions
    assert decision.missing == []


def test_a_person_may_belong_to_several_groups() -> None:
    decision = decided(
        birth_date=AGED_80,
        lives_alone=True,
        disability_group=1,
        domestic_violence_victim=True,
        monthly_household_income_azn=Decimal("250"),
        activities_needing_help=LEVEL_3,
    )
    assert decision.groups == [
        TargetGroup.ELDERLY,
        TargetGroup.ELDERLY_ALONE,
        TargetGroup.DISABILITY,
        TargetGroup.DOMESTIC_VIOLENCE_VICTIM,
        TargetGroup.LOW_INCOME_FAMILY,
    ]
    assert decision.provision_types == [HOME, NGO, RESIDENTIAL]


# Residential care


def test_residential_care_needs_nobody_at_home() -> None:
    decision = decided(birth_date=AGED_80, lives_alone=False, activities_needing_help=LEVEL_3)
    assert decision.provision_types == [HOME]
    assert rule(decision, RuleName.PROVISION_RESIDENTIAL).reason == Reason.NOT_LIVING_ALONE


def test_an_adult_with_disability_alone_needs_level_3_for_residential_care() -> None:
    at_2 = decided(disability_group=1, lives_alone=True, activities_needing_help=LEVEL_2)
    at_3 = decided(disability_group=1, lives_alone=True, activities_needing_help=LEVEL_3)
    assert at_2.provision_types == [HOME]
    assert rule(at_2, RuleName.PROVISION_RESIDENTIAL).reason == Reason.NEED_LEVEL_BELOW_THRESHOLD
    assert at_3.provision_types == [HOME, RESIDENTIAL]


def test_an_elderly_person_alone_reaches_residential_care_at_level_2() -> None:
    at_1 = decided(birth_date=AGED_80, lives_alone=True, activities_needing_help=WASHING)
    at_2 = decided(birth_date=AGED_80, lives_alone=True, activities_needing_help=LEVEL_2)
    assert at_1.provision_types == [HOME]
    assert at_2.provision_types == [HOME, RESIDENTIAL]


# The service asked for


def test_the_service_asked_for_comes_first_when_the_person_qualifies() -> None:
    decision = decided(
        ServiceRequested.RESIDENTIAL,
        birth_date=AGED_80,
        lives_alone=True,
        activities_needing_help=LEVEL_2,
    )
    assert decision.provision_types == [RESIDENTIAL, HOME]
    assert rule(decision, RuleName.REQUESTED_SERVICE).passed


def test_asking_for_a_service_one_does_not_qualify_for_offers_the_others() -> None:
    decision = decided(
        ServiceRequested.RESIDENTIAL,
        trafficking_victim=True,
        lives_alone=True,
        activities_needing_help=LEVEL_3,
    )
    assert decision.outcome is Outcome.ELIGIBLE
    assert decision.provision_types == [NGO]
    requested = rule(decision, RuleName.REQUESTED_SERVICE)
    assert not requested.passed
    assert requested.reason == Reason.NO_NEED_FOR_REQUESTED_SERVICE


def test_no_need_for_the_service_asked_for_nor_any_other_is_ineligible() -> None:
    decision = decided(
        ServiceRequested.HOME_CARE,
        birth_date=AGED_80,
        activities_needing_help=[A.HOUSEWORK],
        monthly_household_income_azn=RICH,
    )
    assert decision.outcome is Outcome.INELIGIBLE
    assert decision.groups == [TargetGroup.ELDERLY]
    assert decision.provision_types == []
    assert decision.need_level is None
    assert decision.priority_score is None
    assert rule(decision, RuleName.PROVISION_HOME_CARE).reason == (
        Reason.NEED_LEVEL_BELOW_THRESHOLD
    )
    assert Reason.NO_NEED_FOR_REQUESTED_SERVICE in reasons(decision)


# Facts not stated


def test_income_is_asked_for_when_it_is_the_only_route() -> None:
    decision = decided()
    assert decision.outcome is Outcome.NEEDS_INFORMATION
    assert decision.missing == [MissingFact.MONTHLY_HOUSEHOLD_INCOME_AZN]
    assert rule(decision, RuleName.INCOME_NEED_CRITERION).reason == Reason.INCOME_NOT_STATED
    assert rule(decision, RuleName.FACTS_STATED).reason == Reason.INFORMATION_MISSING
    assert decision.provision_types == []


def test_income_is_not_asked_for_when_another_route_qualifies() -> None:
    decision = decided(birth_date=AGED_80, activities_needing_help=WASHING)
    assert decision.outcome is Outcome.ELIGIBLE
    assert decision.missing == []
    assert rule(decision, RuleName.FACTS_STATED).passed


def test_care_asked_for_with_no_needs_and_no_disability_group_asks_for_both() -> None:
    decision = decided(ServiceRequested.HOME_CARE, monthly_household_income_azn=RICH)
    assert decision.outcome is Outcome.NEEDS_INFORMATION
    assert decision.missing == [MissingFact.ACTIVITIES_NEEDING_HELP, MissingFact.DISABILITY_GROUP]


def test_care_asked_for_with_nothing_stated_asks_for_everything_that_could_matter() -> None:
    decision = decided(ServiceRequested.RESIDENTIAL)
    assert decision.missing == list(MissingFact)


@pytest.mark.parametrize(
    ("birth_date", "circumstances"),
    [(AGED_80, {}), (AGED_40, {"disability_group": 3})],
)
def test_care_asked_for_by_someone_in_a_served_group_asks_only_for_needs(
    birth_date: date, circumstances: dict[str, Any]
) -> None:
    decision = decided(ServiceRequested.HOME_CARE, birth_date=birth_date, **circumstances)
    assert decision.outcome is Outcome.NEEDS_INFORMATION
    assert decision.missing == [MissingFact.ACTIVITIES_NEEDING_HELP]


def test_needs_are_asked_for_when_only_care_could_help() -> None:
    decision = decided(birth_date=AGED_80, monthly_household_income_azn=RICH)
    assert decision.outcome is Outcome.NEEDS_INFORMATION
    assert decision.missing == [MissingFact.ACTIVITIES_NEEDING_HELP]


# Priority


def test_priority_adds_the_weights_of_the_persons_situation() -> None:
    decision = decided(
        birth_date=date(1946, 3, 1),  # 80: 15 years over the elderly age
        lives_alone=True,
        disability_group=1,
        activities_needing_help=LEVEL_3,
    )
    # need level 3 x 2 + 15 years x 0.1 + living alone 3 + disability group 1: 3
    assert decision.priority_score == 13.5
    assert decision.need_level == 3


def test_victims_and_children_are_prioritised() -> None:
    assert decided(trafficking_victim=True).priority_score == 4.0
    assert decided(birth_date=AGED_10, disability_group=3).priority_score == 3.0


# The decision as a whole


@pytest.mark.parametrize(
    "circumstances",
    [
        {"birth_date": AGED_80, "activities_needing_help": WASHING},
        {"monthly_household_income_azn": RICH},
        {"service": ServiceRequested.HOME_CARE},
    ],
)
def test_every_rule_is_reported_with_json_facts_and_reasons_only_on_failure(
    circumstances: dict[str, Any],
) -> None:
    decision = decided(**circumstances)
    assert [result.rule for result in decision.rules] == list(RuleName)
    for result in decision.rules:
        json.dumps({"facts": result.facts, "threshold": result.threshold})
        assert (result.reason is None) == result.passed
        assert result.reason is None or result.reason in set(Reason)


def test_a_decision_is_the_same_for_the_same_application() -> None:
    received = application(birth_date=AGED_80, activities_needing_help=LEVEL_2)
    assert decide(received, RULES, TODAY) == decide(received, RULES, TODAY)


def test_a_decision_fills_decision_made() -> None:
    received = application(birth_date=AGED_80, lives_alone=True, activities_needing_help=LEVEL_2)
    decision = decide(received, RULES, TODAY)
    made = DecisionMade(
        application_id=received.application_id,
        decided_at=datetime(2026, 3, 15, 10, tzinfo=UTC),
        district=received.applicant.district,
        **decision.model_dump(),
    )
    assert made.rule_set_version == "2026.1"
    assert made.outcome is Outcome.ELIGIBLE
    assert made.provision_types == [HOME, RESIDENTIAL]
    assert DecisionMade.model_validate_json(made.model_dump_json()) == made


@pytest.mark.parametrize(
    ("birth_date", "day", "band"),
    [
        ("2008-11-22", date(2026, 11, 22), AgeBand.YOUNG_ADULT),
        ("2008-11-22", date(2026, 11, 21), AgeBand.CHILD),
        # Born on 29 February: 18 on 1 March in a common year, as the rules count.
        ("2008-02-29", date(2026, 2, 28), AgeBand.CHILD),
        ("2008-02-29", date(2026, 3, 1), AgeBand.YOUNG_ADULT),
        ("1961-06-01", date(2026, 6, 1), AgeBand.OLDER),
        ("1946-01-10", date(2026, 3, 15), AgeBand.OLDEST),
        ("1986-01-10", date(2026, 3, 15), AgeBand.ADULT),
    ],
)
def test_the_age_band_is_of_the_age_the_rules_count(
    birth_date: str, day: date, band: AgeBand
) -> None:
    assert age_band_of({"birth_date": birth_date}, day) is band


def test_facts_without_a_birth_date_give_no_age_band() -> None:
    assert age_band_of({}, date(2026, 3, 15)) is None
