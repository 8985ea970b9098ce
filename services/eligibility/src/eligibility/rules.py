"""The eligibility decision: one application, one rule set, one day in, an explained outcome out.

Pure: no clock, no I/O. Every rule evaluated is reported with the facts it read and its threshold,
so a decision can be explained (and audited) from the DecisionMade event alone.
"""

from dataclasses import replace
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from eligibility.assessment import Person, assess, priority_score, served_groups, unmet_condition
from eligibility.results import (
    dependency_rule,
    facts_stated_rule,
    income_rule,
    provision_asked_for,
    provision_rule,
    requested_service_rule,
    target_group_rule,
)
from eligibility.ruleset import MAX_NEED_LEVEL, RuleSet
from socialsvc_common.contract.explanation import MissingFact
from socialsvc_common.contract.payloads import (
    ApplicationReceived,
    Outcome,
    ProvisionType,
    RuleResult,
    ServiceRequested,
    TargetGroup,
)

LOW_INCOME = (TargetGroup.LOW_INCOME_FAMILY,)


class Decision(BaseModel):
    """What DecisionMade carries besides ids, times and district (same field names)."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    rule_set_version: str
    groups: list[TargetGroup] = Field(default_factory=list)
    need_level: int | None = None
    priority_score: float | None = None
    provision_types: list[ProvisionType] = Field(default_factory=list)
    rules: list[RuleResult] = Field(default_factory=list)
    missing: list[MissingFact] = Field(default_factory=list)


def decide(application: ApplicationReceived, rule_set: RuleSet, today: date) -> Decision:
    """Decide an application by `rule_set`, with the applicant's age taken on `today`.

    - needs_information when a fact the outcome depends on is not stated (see `missing_facts`);
    - eligible when the person qualifies for at least one direction of service. If they asked for
      one they do not qualify for but qualify for others, they are eligible for those: the duty is
      to the need, not to the box ticked, and refusing would only make them apply again. The
      `requested_service` rule then fails with `no_need_for_requested_service`, so the notice can
      say so, and the person may decline what is offered;
    - ineligible otherwise; the failed rules carry the reasons.

    The direction asked for comes first in `provision_types` when the person qualifies for it; the
    rest follow the rule set's ranking. Need level and priority are given only when eligible, as
    only placement uses them; the `dependency` rule records the need level in every decision.
    """
    person = assess(application, rule_set, today)
    unmet = {kind: unmet_condition(person, rule_set.provisions.of(kind)) for kind in ProvisionType}
    qualified = [kind for kind in ProvisionType if unmet[kind] is None]
    missing = missing_facts(application, person, rule_set, qualified)
    requested = application.service_requested
    rules = [
        target_group_rule(application, person, rule_set),
        income_rule(application, person, rule_set),
        dependency_rule(person, rule_set),
        *(provision_rule(kind, person, rule_set, unmet[kind]) for kind in ProvisionType),
        requested_service_rule(requested, qualified),
        facts_stated_rule(missing),
    ]
    decision = Decision(
        outcome=Outcome.INELIGIBLE,
        rule_set_version=rule_set.version,
        groups=list(person.groups),
        rules=rules,
        missing=missing,
    )
    if missing:
        return decision.model_copy(update={"outcome": Outcome.NEEDS_INFORMATION})
    if not qualified:
        return decision
    return decision.model_copy(
        update={
            "outcome": Outcome.ELIGIBLE,
            "need_level": person.need_level,
            "priority_score": priority_score(person, rule_set),
            "provision_types": ranked(requested, qualified, rule_set),
        }
    )


def missing_facts(
    application: ApplicationReceived,
    person: Person,
    rule_set: RuleSet,
    qualified: list[ProvisionType],
) -> list[MissingFact]:
    """Facts not stated on which the outcome depends.

    An empty activity list cannot tell "needs no help" from "did not say", so:
    - asking for a direction that requires a need level, with no activities, leaves the activities
      missing, and the disability group too when it is not stated and the person is in none of the
      groups that direction serves (it is the fact that could put them in one);
    - with nothing qualified and no activities, they are missing if some direction would qualify
      at the highest need level;
    - with nothing qualified and income not stated, income is missing only when low income is the
      one route left open: it is not asked of someone whose stated needs may already qualify them.
    """
    missing = set(_missing_for_care_asked_for(application, person, rule_set))
    if qualified:
        return [fact for fact in MissingFact if fact in missing]
    no_activities = not application.circumstances.activities_needing_help
    # Until activities are stated, any need level is still possible.
    open_level = MAX_NEED_LEVEL if no_activities else person.need_level
    other_route = _would_qualify(person, rule_set, open_level, ())
    if no_activities and other_route:
        missing.add(MissingFact.ACTIVITIES_NEEDING_HELP)
    income_open = person.low_income is None and not other_route
    if income_open and _would_qualify(person, rule_set, open_level, LOW_INCOME):
        missing.add(MissingFact.MONTHLY_HOUSEHOLD_INCOME_AZN)
    return [fact for fact in MissingFact if fact in missing]


def _missing_for_care_asked_for(
    application: ApplicationReceived, person: Person, rule_set: RuleSet
) -> list[MissingFact]:
    kind = provision_asked_for(application.service_requested)
    circumstances = application.circumstances
    if kind is None or circumstances.activities_needing_help:
        return []
    provision = rule_set.provisions.of(kind)
    if provision.min_need_level == 0:
        return []
    if circumstances.disability_group is None and not served_groups(person, provision):
        return [MissingFact.ACTIVITIES_NEEDING_HELP, MissingFact.DISABILITY_GROUP]
    return [MissingFact.ACTIVITIES_NEEDING_HELP]


def ranked(
    requested: ServiceRequested, qualified: list[ProvisionType], rule_set: RuleSet
) -> list[ProvisionType]:
    asked_for = provision_asked_for(requested)
    first = [asked_for] if asked_for in qualified else []
    rest = [kind for kind in rule_set.ranking.order if kind in qualified and kind not in first]
    return [*first, *rest]


def _would_qualify(
    person: Person, rule_set: RuleSet, level: int, extra: tuple[TargetGroup, ...]
) -> bool:
    groups = tuple(group for group in TargetGroup if group in {*person.groups, *extra})
    supposed = replace(person, need_level=level, groups=groups)
    return any(unmet_condition(supposed, rule_set.provisions.of(k)) is None for k in ProvisionType)
