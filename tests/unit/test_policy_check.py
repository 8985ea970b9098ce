"""A candidate rule file is refused with the line and the reason; a good one passes."""

from pathlib import Path

import pytest

from eligibility.policy_check import Finding, check, key_lines
from eligibility.ruleset import POLICY_DIR, RuleSet, load_rule_set

SHIPPED = POLICY_DIR / "2026-1.toml"
TEXT = SHIPPED.read_text(encoding="utf-8")
SECOND = (
    'version = "2026.1"\neffective_from = 2026-01-01',
    'version = "2026.2"\neffective_from = 2026-07-01',
)


def line_of(text: str, fragment: str) -> int:
    """The 1-based line on which `fragment` first appears, found independently of the checker."""
    assert fragment in text, fragment
    before, _, _ = text.partition(fragment)
    return before.count("\n") + 1


def candidate(tmp_path: Path, *edits: tuple[str, str]) -> tuple[Path, str]:
    """A copy of the shipped rule file with pieces of text replaced."""
    text = TEXT
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "candidate.toml"
    path.write_text(text, encoding="utf-8")
    return path, text


@pytest.fixture
def active() -> list[RuleSet]:
    return [load_rule_set(SHIPPED)]


def test_a_valid_new_version_has_no_findings(tmp_path: Path, active: list[RuleSet]) -> None:
    path, _ = candidate(tmp_path, SECOND)
    assert check(path, active) == []


def test_the_shipped_version_again_is_a_harmless_repeat(active: list[RuleSet]) -> None:
    assert check(SHIPPED, active) == []


def test_an_unknown_fact_in_a_nested_table(tmp_path: Path) -> None:
    path, text = candidate(
        tmp_path, SECOND, ("weights.shopping = 1\n", "weights.shopping = 1\nweights.swimming = 2\n")
    )
    (finding,) = check(path, [])
    assert finding.line == line_of(text, "weights.swimming")
    assert finding.field == "dependency.weights.swimming"
    assert finding.reason.startswith("unknown field; expected one of: washing, dressing")


def test_an_unknown_field_in_an_inline_table(tmp_path: Path) -> None:
    path, text = candidate(tmp_path, ("group_3 = 1.0 }", "group_3 = 1.0, group_4 = 0.5 }"))
    (finding,) = check(path, [])
    assert finding == Finding(
        line_of(text, "disability_group = {"),
        "priority.disability_group.group_4",
        "unknown field; expected one of: group_1, group_2, group_3",
    )


def test_a_threshold_out_of_range(tmp_path: Path) -> None:
    path, text = candidate(tmp_path, ("need_criterion_azn = 300", "need_criterion_azn = -5"))
    (finding,) = check(path, [])
    assert finding.line == line_of(text, "need_criterion_azn =")
    assert finding.field == "income.need_criterion_azn"
    assert "greater than 0" in finding.reason
    assert "-5" in finding.reason


def test_a_wrong_type_and_a_missing_field(tmp_path: Path) -> None:
    path, text = candidate(tmp_path, ("elderly = 65", 'elderly = "65"'), ("majority = 18\n", ""))
    assert check(path, []) == [
        Finding(
            line_of(text, "elderly = "),
            "ages.elderly",
            "Input should be a valid integer (got '65')",
        ),
        # A missing key has no line of its own: its table's header stands for it.
        Finding(line_of(text, "[ages]"), "ages.majority", "required field is missing"),
    ]


def test_an_unknown_group_in_a_list_of_a_later_table(tmp_path: Path) -> None:
    path, text = candidate(tmp_path, ('"released_from_prison",', '"released",'))
    (finding,) = check(path, [])
    assert finding.field == "provisions.ngo_project.groups[3]"
    # A list item is reported at its key's line.
    assert finding.line == line_of(text, 'groups = [\n    "child_with_disability"')


def test_a_toml_syntax_error(tmp_path: Path) -> None:
    path, text = candidate(tmp_path, ("majority = 18", "majority = "))
    (finding,) = check(path, [])
    assert finding.line == line_of(text, "majority = ")
    assert finding.field == "syntax"
    assert finding.reason.startswith("Invalid value (column")


def test_effective_to_before_effective_from(tmp_path: Path) -> None:
    path, text = candidate(tmp_path, ("# effective_to = 2026-12-31", "effective_to = 2025-12-31"))
    (finding,) = check(path, [])
    assert finding == Finding(
        line_of(text, "effective_to = 2025"),
        "effective_to",
        "effective_to is before effective_from",
    )


def test_the_same_version_with_a_different_document(tmp_path: Path, active: list[RuleSet]) -> None:
    path, text = candidate(tmp_path, ("need_criterion_azn = 300", "need_criterion_azn = 320"))
    (finding,) = check(path, active)
    assert finding.line == line_of(text, "version =") == 9
    assert finding.field == "version"
    assert "2026.1 is already active with different content" in finding.reason


def test_the_same_start_as_another_version(tmp_path: Path, active: list[RuleSet]) -> None:
    path, text = candidate(tmp_path, ('version = "2026.1"', 'version = "2026.2"'))
    (finding,) = check(path, active)
    assert finding.line == line_of(text, "effective_from =")
    assert finding.reason == "2026.1 already takes effect on 2026-01-01"


def closed(tmp_path: Path, version: str, start: str, end: str, name: str) -> Path:
    text = TEXT.replace('version = "2026.1"', f'version = "{version}"', 1)
    text = text.replace("effective_from = 2026-01-01", f"effective_from = {start}", 1)
    text = text.replace("# effective_to = 2026-12-31", f"effective_to = {end}", 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_closed_ranges_that_share_a_day_overlap(tmp_path: Path) -> None:
    first = load_rule_set(closed(tmp_path, "2026.1", "2026-01-01", "2026-06-30", "first.toml"))
    touching = closed(tmp_path, "2026.2", "2026-06-30", "2026-12-31", "second.toml")
    (finding,) = check(touching, [first])
    assert finding.line == line_of(touching.read_text(), "effective_from =")
    assert finding.reason == (
        "2026-06-30 to 2026-12-31 shares days with 2026.1 (2026-01-01 to 2026-06-30); "
        "two closed versions may not overlap"
    )
    following = closed(tmp_path, "2026.2", "2026-07-01", "2026-12-31", "third.toml")
    assert check(following, [first]) == []


def test_a_later_start_supersedes_an_open_or_closed_version(tmp_path: Path) -> None:
    open_ended = load_rule_set(SHIPPED)
    inside = closed(tmp_path, "2026.2", "2026-03-01", "2026-03-31", "inside.toml")
    assert check(inside, [open_ended]) == []
    # A closed version cannot be edited once active, so a later open one may cut it short.
    whole_year = load_rule_set(closed(tmp_path, "2026.1", "2026-01-01", "2026-12-31", "year.toml"))
    path, _ = candidate(tmp_path, SECOND)
    assert check(path, [whole_year]) == []


def test_an_unreadable_file_is_a_finding(tmp_path: Path) -> None:
    (finding,) = check(tmp_path / "absent.toml", [])
    assert (finding.line, finding.field) == (None, "file")


def test_key_lines_follow_headers_dotted_keys_and_inline_tables() -> None:
    text = 'top = 1\n[a.b]\nc.d = 2\ne = { f = 3, g.h = 4 }\n[[x]]\ny = "z = 5"\n'
    lines = key_lines(text)
    assert lines[("top",)] == 1
    assert lines[("a",)] == lines[("a", "b")] == 2
    assert lines[("a", "b", "c")] == lines[("a", "b", "c", "d")] == 3
    assert lines[("a", "b", "e", "f")] == lines[("a", "b", "e", "g", "h")] == 4
    assert lines[("x", "y")] == 6
    assert ("x", "y", "z") not in lines
