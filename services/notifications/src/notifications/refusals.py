"""Which reasons a refusal states: the ones that decided it, never two that contradict each other.

A decision reports every rule it evaluated, and a person in no target group fails the provision
rules too ("not provided to the group you belong to"): saying both would contradict. So:
- in no target group: that, and the income above the need criterion when it is why they are not
  a low-income family (the one group a change of income can open); nothing about the services;
- in a group: why the service asked for was refused (for "any service", the nearest miss among
  the services); "you need no help at all" in place of "your need is below the level", which it
  implies. Summaries ("no need for the requested service") only when nothing else is known.
Pure: fed the decision's rule results, gives reason keys the templates turn into sentences.
"""

from collections.abc import Mapping, Sequence

from socialsvc_common.contract.explanation import Reason, RuleName
from socialsvc_common.contract.payloads import ProvisionType, RuleResult

PROVISION_RULES = {
    ProvisionType.HOME_CARE: RuleName.PROVISION_HOME_CARE,
    ProvisionType.RESIDENTIAL: RuleName.PROVISION_RESIDENTIAL,
    ProvisionType.NGO_PROJECT: RuleName.PROVISION_NGO_PROJECT,
}
# The nearer a miss, the more a person can do about it: first the nearest.
NEAREST_FIRST = (
    Reason.NEED_LEVEL_BELOW_THRESHOLD,
    Reason.NOT_LIVING_ALONE,
    Reason.GROUP_NOT_SERVED,
)
SUMMARIES = (Reason.NO_NEED_FOR_REQUESTED_SERVICE, Reason.NO_NEED_FOR_ANY_SERVICE)


def deciding_reasons(rules: Sequence[RuleResult]) -> list[str]:
    """The reason keys a refusal states, in the order they are told."""
    failed = {rule.rule: rule.reason for rule in rules if not rule.passed and rule.reason}
    if RuleName.TARGET_GROUP in failed:
        reasons = [Reason.NO_TARGET_GROUP]
        if failed.get(RuleName.INCOME_NEED_CRITERION) == Reason.INCOME_ABOVE_NEED_CRITERION:
            reasons.append(Reason.INCOME_ABOVE_NEED_CRITERION)
        return [reason.value for reason in reasons]
    nearest = _nearest_miss(rules, failed)
    if nearest is Reason.NEED_LEVEL_BELOW_THRESHOLD and RuleName.DEPENDENCY in failed:
        nearest = Reason.NO_DEPENDENCY
    if nearest is not None:
        return [nearest.value]
    summaries = [str(r) for r in failed.values() if r in SUMMARIES]
    return summaries[:1]


def _nearest_miss(rules: Sequence[RuleResult], failed: Mapping[str, str]) -> Reason | None:
    asked = _service_asked_for(rules)
    looked_at = [PROVISION_RULES[asked]] if asked else list(PROVISION_RULES.values())
    misses = {failed.get(rule) for rule in looked_at}
    return next((reason for reason in NEAREST_FIRST if reason in misses), None)


def _service_asked_for(rules: Sequence[RuleResult]) -> ProvisionType | None:
    for rule in rules:
        if rule.rule == RuleName.REQUESTED_SERVICE:
            asked = rule.facts.get("service_requested")
            return ProvisionType(asked) if asked in set(ProvisionType) else None
    return None
