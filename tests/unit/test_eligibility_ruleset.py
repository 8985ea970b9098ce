from datetime import date
from pathlib import Path

import pytest

from eligibility import ruleset
from eligibility.ruleset import (
    POLICY_DIR,
    NoRuleSetInForce,
    RuleSetError,
    default_rule_sets,
    load_rule_set,
    rule_set_for,
)
from socialsvc_common.contract.payloads import ProvisionType, TargetGroup

SHIPPED = POLICY_DIR / "2026-1.toml"


def variant(tmp_path: Path, old: str, new: str, name: str = "variant.toml") -> Path:
    """A copy of the shipped rule file with one piece of text replaced."""
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_the_shipped_rule_set_loads() -> None:
    (rule_set,) = default_rule_sets()
    assert rule_set.version == "2026.1"
    assert rule_set.effective_from == date(2026, 1, 1)
    assert rule_set.effective_to is None
    assert rule_set.ages.elderly == 65
    assert rule_set.ages.majority == 18


def test_the_shipped_rule_set_serves_every_target_group() -> None:
    (rule_set,) = default_rule_sets()
    served = {group for kind in ProvisionType for group in rule_set.provisions.of(kind).groups}
    assert served == set(TargetGroup)


def test_the_rule_set_in_force_is_chosen_by_date(tmp_path: Path) -> None:
    first = load_rule_set(SHIPPED)
    second = load_rule_set(
        variant(
            tmp_path,
            'version = "2026.1"\neffective_from = 2026-01-01',
            'version = "2026.2"\neffective_from = 2026-07-01',
        )
    )
    rule_sets = [second, first]
    assert rule_set_for(rule_sets, date(2026, 1, 1)) is first
    assert rule_set_for(rule_sets, date(2026, 6, 30)) is first
    assert rule_set_for(rule_sets, date(2026, 7, 1)) is second
    with pytest.raises(NoRuleSetInForce, match=r"2025-12-31 \(known: 2026\.2 from 2026-07-01"):
        rule_set_for(rule_sets, date(2025, 12, 31))


def test_effective_to_is_the_last_day_in_force(tmp_path: Path) -> None:
    ending = load_rule_set(
        variant(tmp_path, "# effective_to = 2026-12-31", "effective_to = 2026-12-31")
    )
    assert rule_set_for([ending], date(2026, 12, 31)) is ending
    with pytest.raises(NoRuleSetInForce, match="no rule set is in force on 2027-01-01"):
        rule_set_for([ending], date(2027, 1, 1))


def test_two_rule_sets_taking_effect_the_same_day_are_refused(tmp_path: Path) -> None:
    first = load_rule_set(SHIPPED)
    twin = load_rule_set(variant(tmp_path, 'version = "2026.1"', 'version = "2026.9"'))
    with pytest.raises(RuleSetError, match=r"2026\.1, 2026\.9 all take effect on 2026-01-01"):
        rule_set_for([first, twin], date(2026, 5, 1))


def test_no_rule_sets_at_all_is_a_clear_error() -> None:
    with pytest.raises(NoRuleSetInForce, match=r"known: none"):
        rule_set_for([], date(2026, 5, 1))


def test_two_files_declaring_one_version_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    variant(tmp_path, "need_criterion_azn = 300", "need_criterion_azn = 310", "a.toml")
    variant(tmp_path, "need_criterion_azn = 300", "need_criterion_azn = 320", "b.toml")
    monkeypatch.setattr(ruleset, "POLICY_DIR", tmp_path)
    with pytest.raises(RuleSetError, match=r"\['2026\.1'\] declared by more than one file"):
        default_rule_sets()


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("[ages]", "mood = 1\n[ages]", "mood", "Extra inputs are not permitted"),
        (
            "weights.shopping = 1",
            "weights.shopping = 1\nweights.bathing = 2",
            "dependency.weights.bathing",
            "Extra inputs are not permitted",
        ),
        ("elderly = 65", "elderly = 200", "ages.elderly", "less than or equal to 100"),
        ("elderly = 65", 'elderly = "65"', "ages.elderly", "Input should be a valid integer"),
        ("weights.eating = 3", "weights.eating = -1", "dependency.weights.eating", "greater than"),
        ("need_criterion_azn = 300", "need_criterion_azn = 0", "income.need_criterion_azn", "0"),
        ("living_alone = 3.0", "living_alone = 500.0", "priority.living_alone", "100"),
        ("[2, 6, 12]", "[2, 12, 6]", "dependency", "must rise strictly"),
        ("[2, 6, 12]", "[2, 6, 40]", "dependency", "above the highest possible score 18"),
        ('"2026.1"', '"first"', "version", "String should match pattern"),
        ("# effective_to = 2026-12-31", "effective_to = 2025-12-31", "rule set", "before"),
        (
            'order = ["home_care", "ngo_project", "residential"]',
            'order = ["home_care", "home_care", "residential"]',
            "ranking",
            "must name each provision type once",
        ),
        (
            "min_need_level_by_group = { elderly_alone = 2 }",
            "min_need_level_by_group = { released_from_prison = 2 }",
            "provisions.residential",
            "names groups not served: ['released_from_prison']",
        ),
        ("min_need_level = 3", "min_need_level = 4", "rule set", "only 3 defined"),
        (
            'groups = ["elderly", "elderly_alone", "disability"]',
            'groups = ["pets"]',
            "groups.0",
            "Input should be 'elderly'",
        ),
        ("[priority]", "[priorities]", "priorities", "Extra inputs are not permitted"),
    ],
)
def test_a_bad_rule_file_is_refused_naming_file_and_field(
    tmp_path: Path, old: str, new: str, field: str, message: str
) -> None:
    path = variant(tmp_path, old, new)
    with pytest.raises(RuleSetError) as caught:
        load_rule_set(path)
    text = str(caught.value)
    assert str(path) in text
    assert field in text
    assert message in text


def test_a_rule_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    path = variant(tmp_path, "elderly = 65", "elderly = ")
    with pytest.raises(RuleSetError, match=r"variant\.toml: cannot read rule file"):
        load_rule_set(path)


def test_a_missing_rule_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuleSetError, match=r"absent\.toml: cannot read rule file"):
        load_rule_set(tmp_path / "absent.toml")
