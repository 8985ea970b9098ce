"""The archive's retention policy: the shipped file, the rule a topic takes, and the errors a
mistake in the file gives (where, and what is wrong)."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from socialsvc_common.contract import topics
from socialsvc_ops.archive.retention import InvalidPolicy, Keep, load_policy, parse_policy
from socialsvc_ops.archive.settings import DEFAULT_POLICY

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

GOOD = """
default = "2 years"

[[family]]
name = "decisions"
prefixes = ["eligibility.decision."]
keep = "10 years"

[[family]]
name = "dead letters"
prefixes = ["eligibility.record.deadlettered."]
keep = "90 days"
"""


def test_the_shipped_policy_keeps_decisions_and_placements_for_years() -> None:
    policy = load_policy(DEFAULT_POLICY)
    assert policy.rule_for(topics.DECISION_MADE.name) == ("eligibility decisions", Keep(years=10))
    assert policy.rule_for(topics.PLACEMENT_RELEASED.name)[1] == Keep(years=10)
    assert policy.rule_for(topics.NOTIFICATION_DELIVERED.name)[1] == Keep(years=1)
    for letters in topics.DEAD_LETTERS.values():
        assert policy.rule_for(letters.name) == ("dead letters", Keep(days=90))
    assert policy.rule_for("payroll.payment.made.v1") == ("default", Keep(years=2))


def test_retention_counts_calendar_years_and_days() -> None:
    assert Keep(years=10).until(AT) == datetime(2036, 3, 1, 12, 0, tzinfo=UTC)
    assert Keep(days=90).until(AT) == datetime(2026, 5, 30, 12, 0, tzinfo=UTC)
    leap = datetime(2028, 2, 29, tzinfo=UTC)
    assert Keep(years=1).until(leap) == datetime(2029, 3, 1, tzinfo=UTC)


def test_the_longest_prefix_wins() -> None:
    policy = parse_policy(
        GOOD + '[[family]]\nname = "all eligibility"\nprefixes = ["eligibility."]\n'
        'keep = "3 years"\n',
        "p.toml",
    )
    assert policy.rule_for("eligibility.decision.made.v1")[0] == "decisions"
    assert policy.rule_for("eligibility.ruleset.activated.v1")[0] == "all eligibility"
    assert policy.retain_until("eligibility.decision.made.v1", AT).year == 2036


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('default = "2 years"\n[[family]\n', r"^p\.toml:2: "),
        ("", r"^p\.toml: default: Field required$"),
        ('default = "2 yrs"', r"^p\.toml: default: '2 yrs' is not a retention: use '90 days'"),
        ('default = "0 days"', r"default: '0 days' is not a retention"),
        ("default = 3", r"default: 3 is not a retention"),
        ('default = "1 year"\nkeep = "1 year"', r"keep: Extra inputs are not permitted"),
        (
            'default = "1 year"\n[[family]]\nname = "x"\nprefixes = []\nkeep = "1 year"',
            r"family\[0\]\.prefixes: List should have at least 1 item",
        ),
        (
            GOOD.replace('"eligibility.record.deadlettered."', '"eligibility.decision."'),
            r"family\[1\]\.prefixes: 'eligibility\.decision\.' is already in family 'decisions'",
        ),
    ],
)
def test_a_bad_policy_is_refused_saying_where_and_why(text: str, message: str) -> None:
    with pytest.raises(InvalidPolicy, match=message):
        parse_policy(text, "p.toml")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidPolicy, match=r"nowhere\.toml: cannot be read"):
        load_policy(tmp_path / "nowhere.toml")
