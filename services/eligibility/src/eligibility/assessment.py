"""The person an application describes, measured against one rule set: age, groups, need, priority.

Pure functions of the application, the rule set and the day. Nothing here decides an outcome; that
is `rules.decide`, which reads these measurements.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from eligibility.ruleset import Ages, Dependency, Income, Provision, RuleSet
from socialsvc_common.contract.explanation import Reason
from socialsvc_common.contract.payloads import (
    AgeBand,
    ApplicationReceived,
    Circumstances,
    DailyActivity,
    TargetGroup,
)

BAKU = ZoneInfo("Asia/Baku")
CENT = Decimal("0.01")
VICTIMS = frozenset({TargetGroup.TRAFFICKING_VICTIM, TargetGroup.DOMESTIC_VIOLENCE_VICTIM})


@dataclass(frozen=True)
class Person:
    age: int
    lives_alone: bool
    disability_group: int | None
    groups: tuple[TargetGroup, ...]
    low_income: bool | None  # None: income not stated, so the low-income route is undecided
    per_capita_income_azn: Decimal | None
    activities: tuple[DailyActivity, ...]
    dependency_score: int
    need_level: int


def age_band_of(facts: Mapping[str, Any], day: date) -> AgeBand | None:
    """The person's age band on `day` (the day the rules took their age on), from the facts a
    decision was made on; None where they hold no birth date (erased)."""
    birth_date = facts.get("birth_date")
    if not birth_date:
        return None
    return AgeBand.for_age(age_on(date.fromisoformat(birth_date), day))


def assess(application: ApplicationReceived, rule_set: RuleSet, today: date) -> Person:
    circumstances = application.circumstances
    age = age_on(application.applicant.birth_date, today)
    low_income = in_need(circumstances, rule_set.income)
    activities = tuple(sorted(set(circumstances.activities_needing_help)))
    score = dependency_score(activities, rule_set.dependency)
    return Person(
        age=age,
        lives_alone=circumstances.lives_alone,
        disability_group=circumstances.disability_group,
        groups=target_groups(circumstances, age, low_income, rule_set.ages),
        low_income=low_income,
        per_capita_income_azn=per_capita_income(circumstances),
        activities=activities,
        dependency_score=score,
        need_level=need_level(score, rule_set.dependency),
    )


def age_on(birth_date: date, day: date) -> int:
    """Full years on `day`. Someone born on 29 February gains a year on 1 March in common years."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def per_capita_income(circumstances: Circumstances) -> Decimal | None:
    income = circumstances.monthly_household_income_azn
    if income is None:
        return None
    return (income / circumstances.household_size).quantize(CENT)


def in_need(circumstances: Circumstances, income: Income) -> bool | None:
    """At or below the need criterion per household member; None while income is not stated."""
    stated = circumstances.monthly_household_income_azn
    if stated is None:
        return None
    # Multiplying instead of dividing keeps the comparison exact at the boundary.
    return stated <= income.need_criterion_azn * circumstances.household_size


def target_groups(
    circumstances: Circumstances, age: int, low_income: bool | None, ages: Ages
) -> tuple[TargetGroup, ...]:
    """The groups of DOMAIN.md the person belongs to, in the contract's order.

    The child-with-disability flag is taken as stated whatever the applicant's age, because a parent
    often applies for the child; the age only decides whether a stated disability group makes the
    person a child with disability or an adult with disability.
    """
    c = circumstances
    elderly = age >= ages.elderly
    has_group = c.disability_group is not None
    member = {
        TargetGroup.ELDERLY: elderly,
        TargetGroup.ELDERLY_ALONE: elderly and c.lives_alone,
        TargetGroup.DISABILITY: has_group and age >= ages.majority,
        TargetGroup.CHILD_WITH_DISABILITY: c.child_with_disability
        or (has_group and age < ages.majority),
        TargetGroup.TRAFFICKING_VICTIM: c.trafficking_victim,
        TargetGroup.DOMESTIC_VIOLENCE_VICTIM: c.domestic_violence_victim,
        TargetGroup.RELEASED_FROM_PRISON: c.released_from_prison,
        TargetGroup.INSTITUTION_GRADUATE: c.children_institution_graduate,
        TargetGroup.LOW_INCOME_FAMILY: low_income is True,
    }
    return tuple(group for group in TargetGroup if member[group])


def dependency_score(activities: tuple[DailyActivity, ...], dependency: Dependency) -> int:
    return sum(dependency.weights.of(activity) for activity in set(activities))


def need_level(score: int, dependency: Dependency) -> int:
    """The highest level whose minimum score is reached; 0 when none is."""
    return sum(1 for minimum in dependency.need_level_min_scores if score >= minimum)


def served_groups(person: Person, provision: Provision) -> list[TargetGroup]:
    return [group for group in person.groups if group in provision.groups]


def unmet_condition(person: Person, provision: Provision) -> Reason | None:
    """Why the person does not qualify for a provision, or None when they do.

    Through any one of their groups: the lowest need-level bar among the groups served applies.
    """
    served = served_groups(person, provision)
    if not served:
        return Reason.GROUP_NOT_SERVED
    if provision.requires_living_alone and not person.lives_alone:
        return Reason.NOT_LIVING_ALONE
    if person.need_level < min(provision.min_need_level_for(group) for group in served):
        return Reason.NEED_LEVEL_BELOW_THRESHOLD
    return None


def priority_score(person: Person, rule_set: RuleSet) -> float:
    """Waitlist points: higher is served first. Rounded so equal situations compare equal."""
    weights = rule_set.priority
    score = weights.per_need_level * person.need_level
    score += weights.per_year_over_elderly_age * max(0, person.age - rule_set.ages.elderly)
    if person.lives_alone:
        score += weights.living_alone
    if person.disability_group is not None:
        score += weights.disability_group.of(person.disability_group)
    if TargetGroup.CHILD_WITH_DISABILITY in person.groups:
        score += weights.child_with_disability
    if VICTIMS.intersection(person.groups):
        score += weights.victim
    return round(score, 2)
