"""A refusal states the reasons that decided it, never two that contradict each other: checked on
decisions of the real rules, and on rule results made up for the branches the shipped rule set
does not reach."""

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

from eligibility.rules import Decision
from notifications.message_kinds import message_for
from notifications.refusals import deciding_reasons
from socialsvc_common.contract.explanation import Reason, RuleName
from socialsvc_common.contract.payloads import (
    DailyActivity,
    DecisionMade,
    Outcome,
    RuleResult,
    ServiceRequested,
)
from tests.unit.test_eligibility_rules import AGED_40, AGED_80, RICH, WASHING, decided

R = Reason


def made(decision: Decision) -> DecisionMade:
    return DecisionMade(
        application_id=uuid4(),
        decided_at=datetime.now(UTC),
        district="Yasamal",
        **decision.model_dump(),
    )


def results(requested: str, **failed: Reason) -> list[RuleResult]:
    """Rule results with these rules failed (rule name = reason), the others passed."""
    names = [*RuleName]
    return [
        RuleResult(
            rule=name,
            passed=name not in failed,
            reason=failed.get(name),
            facts={"service_requested": requested} if name == RuleName.REQUESTED_SERVICE else {},
        )
        for name in names
    ]


def test_no_target_group_is_not_also_told_the_group_is_not_served() -> None:
    decision = decided(
        birth_date=AGED_40, activities_needing_help=WASHING, monthly_household_income_azn=RICH
    )
    assert decision.outcome is Outcome.INELIGIBLE
    # What the rules report contradicts itself when told in full.
    told_before = made(decision).refusal_reasons()
    assert {R.NO_TARGET_GROUP, R.GROUP_NOT_SERVED} <= set(told_before)
    assert deciding_reasons(decision.rules) == [R.NO_TARGET_GROUP, R.INCOME_ABOVE_NEED_CRITERION]


def test_income_not_stated_is_not_a_reason_to_tell() -> None:
    rules = results(
        "any",
        target_group=R.NO_TARGET_GROUP,
        income_need_criterion=R.INCOME_NOT_STATED,
        provision_home_care=R.GROUP_NOT_SERVED,
        requested_service=R.NO_NEED_FOR_ANY_SERVICE,
    )
    assert deciding_reasons(rules) == [R.NO_TARGET_GROUP]


def test_no_need_for_help_at_all_says_so_once() -> None:
    decision = decided(
        ServiceRequested.HOME_CARE,
        birth_date=AGED_80,
        activities_needing_help=[DailyActivity.HOUSEWORK],
        monthly_household_income_azn=RICH,
    )
    assert decision.outcome is Outcome.INELIGIBLE
    assert deciding_reasons(decision.rules) == [R.NO_DEPENDENCY]


def test_the_service_asked_for_gives_the_reason() -> None:
    rules = results(
        "residential",
        income_need_criterion=R.INCOME_ABOVE_NEED_CRITERION,
        provision_home_care=R.NEED_LEVEL_BELOW_THRESHOLD,
        provision_residential=R.NOT_LIVING_ALONE,
        provision_ngo_project=R.GROUP_NOT_SERVED,
        requested_service=R.NO_NEED_FOR_REQUESTED_SERVICE,
    )
    # In a group, income is not what decided: the low-income route is only one of the groups.
    assert deciding_reasons(rules) == [R.NOT_LIVING_ALONE]


def test_any_service_gives_the_nearest_miss() -> None:
    rules = results(
        "any",
        provision_home_care=R.NEED_LEVEL_BELOW_THRESHOLD,
        provision_residential=R.NOT_LIVING_ALONE,
        provision_ngo_project=R.GROUP_NOT_SERVED,
        requested_service=R.NO_NEED_FOR_ANY_SERVICE,
    )
    assert deciding_reasons(rules) == [R.NEED_LEVEL_BELOW_THRESHOLD]
    served_nowhere = results(
        "any",
        provision_home_care=R.GROUP_NOT_SERVED,
        provision_residential=R.GROUP_NOT_SERVED,
        provision_ngo_project=R.GROUP_NOT_SERVED,
    )
    assert deciding_reasons(served_nowhere) == [R.GROUP_NOT_SERVED]


def test_a_summary_only_when_nothing_else_is_known() -> None:
    summary = results("home_care", requested_service=R.NO_NEED_FOR_REQUESTED_SERVICE)
    assert deciding_reasons(summary) == [R.NO_NEED_FOR_REQUESTED_SERVICE]
    assert deciding_reasons([]) == []


def test_the_refusal_message_carries_the_deciding_reasons_and_the_appeal_date() -> None:
    decision = made(
        decided(
            birth_date=AGED_40,
            activities_needing_help=WASHING,
            monthly_household_income_azn=Decimal("5000"),
        )
    )

    message = message_for(decision.model_copy(update={"appeal_by": date(2027, 1, 5)}))
    assert message is not None
    kind, context = message
    assert kind == "decision_ineligible"
    assert context["reasons"] == [R.NO_TARGET_GROUP, R.INCOME_ABOVE_NEED_CRITERION]
    assert context["appeal_by"] == "2027-01-05"
    without = message_for(decision)
    assert without is not None
    assert "appeal_by" not in without[1]
