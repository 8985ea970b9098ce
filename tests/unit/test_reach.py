"""The reach of a rule set over a year of life events (issue 21): each event pre-screened as
eligibility does it live, under the rule set in force and a candidate."""

import json
from datetime import date
from pathlib import Path

import pytest

from eligibility import reach_cli
from eligibility.reach import reach, synthetic_year
from eligibility.ruleset import default_rule_sets, rule_set_for
from socialsvc_common.contract.payloads import LifeEventKind

TODAY = date(2026, 12, 6)
RULES = rule_set_for(default_rule_sets(), TODAY)
SIZES = {
    LifeEventKind.TURNED_65_LIVING_ALONE: 40,
    LifeEventKind.LEFT_CHILDREN_INSTITUTION: 5,
    LifeEventKind.RELEASED_FROM_PENITENTIARY: 30,
    LifeEventKind.DISABILITY_DETERMINED: 60,
}


def test_a_synthetic_year_is_the_same_for_the_same_seed_and_within_the_year() -> None:
    year = list(synthetic_year(TODAY, 7, SIZES))
    assert year == list(synthetic_year(TODAY, 7, SIZES))
    assert year != list(synthetic_year(TODAY, 8, SIZES))
    assert len(year) == sum(SIZES.values())
    assert all(TODAY.replace(year=2025) < e.occurred_on <= TODAY for e in year)
    alone = [e for e in year if e.kind is LifeEventKind.TURNED_65_LIVING_ALONE]
    assert all(
        e.lives_alone and (e.occurred_on - e.person.birth_date).days // 365 == 65 for e in alone
    )
    groups = {e.disability_group for e in year if e.kind is LifeEventKind.DISABILITY_DETERMINED}
    assert groups == {1, 2, 3}
    assert len({e.reference for e in year}) == len(year)


def test_raising_the_elderly_age_to_70_reaches_none_who_just_turned_65() -> None:
    year = list(synthetic_year(TODAY, 7, SIZES))
    candidate = RULES.model_copy(
        update={"version": "2026.2", "ages": RULES.ages.model_copy(update={"elderly": 70})}
    )
    now, then = reach(year, RULES, TODAY), reach(year, candidate, TODAY)
    assert now.events == then.events
    assert now.likely[LifeEventKind.TURNED_65_LIVING_ALONE] == 40
    assert then.likely[LifeEventKind.TURNED_65_LIVING_ALONE] == 0
    assert now.directions[LifeEventKind.TURNED_65_LIVING_ALONE, "home_care"] == 40
    for kind in (LifeEventKind.LEFT_CHILDREN_INSTITUTION, LifeEventKind.DISABILITY_DETERMINED):
        assert then.likely[kind] == now.likely[kind]
    assert then.as_dict()["likely"] == sum(then.likely.values())


def test_the_command_reads_the_registrys_lines_and_names_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    year = list(synthetic_year(TODAY, 7, SIZES))[:3]
    events = tmp_path / "events.jsonl"
    events.write_text("".join(e.model_dump_json() + "\n" for e in year))
    assert reach_cli.main(["--events", str(events), "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["events"] == 3
    events.write_text(year[0].model_dump_json() + "\n" + '{"registry": "unknown"}\n')
    assert reach_cli.main(["--events", str(events)]) == 2
    assert f"{events}:2:" in capsys.readouterr().err
