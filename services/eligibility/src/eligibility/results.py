"""One RuleResult per rule a decision evaluates: the facts it read, its threshold, its reason.

Facts and thresholds are plain JSON values (strings for money and dates), because they travel in
DecisionMade and are read by people auditing a decision long after the rule set has changed.
"""

from typing import Any

from eligibility.assessment import Person, served_groups
from eligibility.ruleset import RuleSet
from socialsvc_common.contract.explanation import MissingFact, Reason, RuleName
from socialsvc_common.contract.payloads import (
    ApplicationReceived,
    ProvisionType,
    RuleResult,
    ServiceRequested,
)

PROVISION_RULES = {
    ProvisionType.HOME_CARE: RuleName.PROVISION_HOME_CARE,
    ProvisionType.RESIDENTIAL: RuleName.PROVISION_RESIDENTIAL,
    ProvisionType.NGO_PROJECT: RuleName.PROVISION_NGO_PROJECT,
}


def provision_asked_for(requested: ServiceRequested) -> ProvisionType | None:
    return None if requested is ServiceRequested.ANY else ProvisionType(requested.value)


def _result(
    rule: RuleName, passed: bool, facts: dict[str, Any], threshold: Any, reason: Reason
) -> RuleResult:
    failure = None if passed else reason
    return RuleResult(rule=rule, passed=passed, facts=facts, threshold=threshold, reason=failure)


def target_group_rule(
    application: ApplicationReceived, person: Person, rule_set: RuleSet
) -> RuleResult:
    c = application.circumstances
    facts = {
        "birth_date": application.applicant.birth_date.isoformat(),
        "age": person.age,
        "lives_alone": c.lives_alone,
        "disability_group": c.disability_group,
        "child_with_disability": c.child_with_disability,
        "trafficking_victim": c.trafficking_victim,
        "domestic_violence_victim": c.domestic_violence_victim,
        "released_from_prison": c.released_from_prison,
        "children_institution_graduate": c.children_institution_graduate,
        "groups": [group.value for group in person.groups],
    }
    ages = {"elderly_age": rule_set.ages.elderly, "majority_age": rule_set.ages.majority}
    return _result(RuleName.TARGET_GROUP, bool(person.groups), facts, ages, Reason.NO_TARGET_GROUP)


def income_rule(application: ApplicationReceived, person: Person, rule_set: RuleSet) -> RuleResult:
    c = application.circumstances
    income = c.monthly_household_income_azn
    per_capita = person.per_capita_income_azn
    facts = {
        "monthly_household_income_azn": None if income is None else str(income),
        "household_size": c.household_size,
        "per_capita_income_azn": None if per_capita is None else str(per_capita),
    }
    reason = Reason.INCOME_ABOVE_NEED_CRITERION
    if person.low_income is None:
        reason = Reason.INCOME_NOT_STATED
    criterion = str(rule_set.income.need_criterion_azn)
    passed = bool(person.low_income)
    return _result(RuleName.INCOME_NEED_CRITERION, passed, facts, criterion, reason)


def dependency_rule(person: Person, rule_set: RuleSet) -> RuleResult:
    facts = {
        "activities_needing_help": [activity.value for activity in person.activities],
        "dependency_score": person.dependency_score,
        "need_level": person.need_level,
    }
    threshold = {"need_level_min_scores": list(rule_set.dependency.need_level_min_scores)}
    passed = person.need_level >= 1
    return _result(RuleName.DEPENDENCY, passed, facts, threshold, Reason.NO_DEPENDENCY)


def provision_rule(
    kind: ProvisionType, person: Person, rule_set: RuleSet, unmet: Reason | None
) -> RuleResult:
    provision = rule_set.provisions.of(kind)
    facts = {
        "groups_served": [group.value for group in served_groups(person, provision)],
        "need_level": person.need_level,
        "lives_alone": person.lives_alone,
    }
    threshold = provision.model_dump(mode="json")
    rule = PROVISION_RULES[kind]
    return _result(rule, unmet is None, facts, threshold, unmet or Reason.GROUP_NOT_SERVED)


def requested_service_rule(
    requested: ServiceRequested, qualified: list[ProvisionType]
) -> RuleResult:
    asked_for = provision_asked_for(requested)
    if asked_for is None:
        passed, reason = bool(qualified), Reason.NO_NEED_FOR_ANY_SERVICE
    else:
        passed, reason = asked_for in qualified, Reason.NO_NEED_FOR_REQUESTED_SERVICE
    facts = {"service_requested": requested.value, "qualified": [kind.value for kind in qualified]}
    return _result(RuleName.REQUESTED_SERVICE, passed, facts, None, reason)


def facts_stated_rule(missing: list[MissingFact]) -> RuleResult:
    facts = {"missing": [fact.value for fact in missing]}
    return _result(RuleName.FACTS_STATED, not missing, facts, None, Reason.INFORMATION_MISSING)
