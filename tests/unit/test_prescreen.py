"""Pre-screening life events from the state registries by the rule set in force (issue 21): the
facts a registry knows, the need for help taken at its highest, the rest left to the person."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from eligibility.prescreen import Screened, prescreen
from eligibility.ruleset import default_rule_sets, rule_set_for
from socialsvc_common.contract.explanation import MissingFact
from socialsvc_common.contract.payloads import (
    Applicant,
    LifeEventKind,
    LifeEventRecorded,
    Prescreen,
    ProvisionType,
    Registry,
    TargetGroup,
)

TODAY = date(2026, 12, 6)
RULES = rule_set_for(default_rule_sets(), TODAY)


def event(
    registry: Registry, kind: LifeEventKind, born: date, **facts: object
) -> LifeEventRecorded:
    return LifeEventRecorded.model_validate(
        {
            "registry": registry,
            "reference": "AZ-2026/000187",
            "kind": kind,
            "occurred_on": date(2026, 12, 1),
            "person": Applicant(
                fin="1AB2C3D",
                first_name="Aygün",
                last_name="Məmmədova",
                birth_date=born,
                mobile_phone="+994501234567",
                district="Xətai",
            ),
            **facts,
        }
    )


def screen(registry: Registry, kind: LifeEventKind, born: date, **facts: object) -> Screened:
    return prescreen(event(registry, kind, born, **facts), RULES, TODAY)


def test_alone_at_65_may_have_care_at_home_once_the_help_needed_is_said() -> None:
    screened = screen(
        Registry.POPULATION,
        LifeEventKind.TURNED_65_LIVING_ALONE,
        date(1961, 11, 30),
        lives_alone=True,
    )
    assert screened.outcome is Prescreen.LIKELY
    assert TargetGroup.ELDERLY_ALONE in screened.groups
    assert screened.provision_types[0] is ProvisionType.HOME_CARE
    assert screened.missing == (MissingFact.ACTIVITIES_NEEDING_HELP,)
    assert screened.rule_set_version == RULES.version


@pytest.mark.parametrize(
    ("registry", "kind", "group"),
    [
        (
            Registry.EDUCATION,
            LifeEventKind.LEFT_CHILDREN_INSTITUTION,
            TargetGroup.INSTITUTION_GRADUATE,
        ),
        (
            Registry.JUSTICE,
            LifeEventKind.RELEASED_FROM_PENITENTIARY,
            TargetGroup.RELEASED_FROM_PRISON,
        ),
    ],
)
def test_leaving_an_institution_or_prison_opens_an_ngo_project_at_once(
    registry: Registry, kind: LifeEventKind, group: TargetGroup
) -> None:
    screened = screen(registry, kind, date(2007, 5, 1))
    assert screened.outcome is Prescreen.LIKELY
    assert screened.groups == (group,)
    assert screened.provision_types == (ProvisionType.NGO_PROJECT,)
    assert screened.missing == ()


def test_a_disability_determined_may_bring_care_at_home() -> None:
    screened = screen(
        Registry.DISABILITY,
        LifeEventKind.DISABILITY_DETERMINED,
        date(1990, 1, 1),
        disability_group=2,
    )
    assert screened.outcome is Prescreen.LIKELY
    assert screened.groups == (TargetGroup.DISABILITY,)
    assert ProvisionType.HOME_CARE in screened.provision_types


def test_a_person_the_rules_do_not_serve_is_not_offered_anything() -> None:
    # The registry's own record says the person is 36: not elderly, in no group the rules serve.
    screened = screen(
        Registry.POPULATION,
        LifeEventKind.TURNED_65_LIVING_ALONE,
        date(1990, 1, 1),
        lives_alone=True,
    )
    assert screened.outcome is Prescreen.UNLIKELY
    assert (screened.groups, screened.provision_types, screened.missing) == ((), (), ())


@pytest.mark.parametrize(
    ("registry", "kind", "facts", "reason"),
    [
        (
            Registry.JUSTICE,
            LifeEventKind.LEFT_CHILDREN_INSTITUTION,
            {},
            "the justice registry reports released_from_penitentiary events",
        ),
        (Registry.DISABILITY, LifeEventKind.DISABILITY_DETERMINED, {}, "comes with its group"),
        (
            Registry.POPULATION,
            LifeEventKind.TURNED_65_LIVING_ALONE,
            {"lives_alone": False},
            "people who live alone",
        ),
        (
            Registry.EDUCATION,
            LifeEventKind.LEFT_CHILDREN_INSTITUTION,
            {"reference": "no spaces here"},
            "reference",
        ),
    ],
)
def test_an_event_a_registry_could_not_have_recorded_is_refused(
    registry: Registry, kind: LifeEventKind, facts: dict[str, object], reason: str
) -> None:
    with pytest.raises(ValidationError, match=reason):
        event(registry, kind, date(1950, 1, 1), **facts)


def test_every_copy_of_a_registry_record_is_one_life_event() -> None:
    first = event(Registry.JUSTICE, LifeEventKind.RELEASED_FROM_PENITENTIARY, date(1985, 2, 2))
    copy = event(Registry.JUSTICE, LifeEventKind.RELEASED_FROM_PENITENTIARY, date(1985, 2, 2))
    other = first.model_copy(update={"reference": "AZ-2026/000188"})
    assert first.life_event_id == copy.life_event_id
    assert other.life_event_id != first.life_event_id


def test_an_event_of_todays_date_in_baku_is_taken() -> None:
    today_in_baku = datetime.now(ZoneInfo("Asia/Baku")).date()
    taken = LifeEventRecorded.model_validate(
        event(
            Registry.JUSTICE, LifeEventKind.RELEASED_FROM_PENITENTIARY, date(1985, 2, 2)
        ).model_dump()
        | {"occurred_on": today_in_baku}
    )
    assert taken.occurred_on == today_in_baku
