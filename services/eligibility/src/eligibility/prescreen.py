"""Pre-screening a life event a state registry reported, by the rule set in force.

Pure: no clock, no I/O. The registry knows the person's age and the event (alone at 65, out of a
children's institution, out of prison, a disability group); it does not know how much help they
need with daily activities. That need is taken at its highest, so the pre-screen names every
direction of service the person may receive; it takes no income as low, since low income is a
fact of the person's own to state. What they state when they accept is decided by the rules in
full, as any application is.
"""

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from uuid import UUID

from eligibility.assessment import assess, unmet_condition
from eligibility.rules import ranked
from eligibility.ruleset import MAX_NEED_LEVEL, RuleSet
from eligibility.simulation import PLACEHOLDER_APPLICANT
from socialsvc_common.contract.explanation import MissingFact
from socialsvc_common.contract.payloads import (
    ApplicationReceived,
    LifeEventRecorded,
    Prescreen,
    ProvisionType,
    ServiceRequested,
    TargetGroup,
    life_event_circumstances,
)

# Never read by the rules, which take the person's age on `today`.
SCREENED_AT = datetime(2000, 1, 1, tzinfo=UTC)
NOT_AN_APPLICATION = UUID(int=0)


@dataclass(frozen=True, slots=True)
class Screened:
    outcome: Prescreen
    rule_set_version: str
    groups: tuple[TargetGroup, ...]
    provision_types: tuple[ProvisionType, ...]
    missing: tuple[MissingFact, ...]


def prescreen(event: LifeEventRecorded, rule_set: RuleSet, today: date) -> Screened:
    """Whether the person likely qualifies, for what (the rule set's ranking), and which facts
    they would be asked for."""
    application = ApplicationReceived(
        application_id=NOT_AN_APPLICATION,
        submitted_at=SCREENED_AT,
        channel="registry",
        service_requested=ServiceRequested.ANY,
        applicant=PLACEHOLDER_APPLICANT.model_copy(update={"birth_date": event.person.birth_date}),
        circumstances=life_event_circumstances(
            event.kind, event.lives_alone, event.disability_group
        ),
    )
    person = assess(application, rule_set, today)
    at_most = replace(person, need_level=MAX_NEED_LEVEL)
    provisions = {kind: rule_set.provisions.of(kind) for kind in ProvisionType}
    qualified = [
        kind for kind in ProvisionType if unmet_condition(at_most, provisions[kind]) is None
    ]
    needs_level = any(provisions[kind].min_need_level > 0 for kind in qualified)
    return Screened(
        outcome=Prescreen.LIKELY if qualified else Prescreen.UNLIKELY,
        rule_set_version=rule_set.version,
        groups=person.groups,
        provision_types=tuple(ranked(ServiceRequested.ANY, qualified, rule_set)),
        missing=(MissingFact.ACTIVITIES_NEEDING_HELP,) if needs_level else (),
    )
