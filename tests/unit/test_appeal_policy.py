"""The appeals policy file: the shipped one loads; a broken one is refused naming file and field."""

from pathlib import Path

import pytest

from eligibility.appeals.policy import (
    DEFAULT_POLICY,
    AppealPolicyError,
    load_appeal_policy,
)
from socialsvc_common.contract.appeals import AppealSubject


def test_the_shipped_policy_gives_days_for_every_subject() -> None:
    policy = load_appeal_policy()
    assert policy.version == "2026.1"
    for subject in AppealSubject:
        assert policy.lodging_days.of(subject) == 30
    assert policy.review_days.of(AppealSubject.DECISION) == 15
    assert policy.review_days.of(AppealSubject.PLACEMENT) == 10


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("decision = 30", "decision = 0", "lodging_days.decision: Input should be greater than"),
        ("decision = 15", 'decision = "15"', "review_days.decision: Input should be a valid int"),
        ("placement = 10", "placement = 400", "review_days.placement: Input should be less than"),
        ("decision = 15", "decison = 15", "review_days.decision: Field required"),
        ('version = "2026.1"', 'version = "2026.1"\nbranch = "x"', "branch: Extra inputs"),
        ("[review_days]", "[reviews]", "review_days: Field required"),
    ],
)
def test_a_broken_policy_is_refused_naming_the_file_and_field(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "appeals.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(AppealPolicyError) as refused:
        load_appeal_policy(path)
    assert str(refused.value).startswith(f"{path}: ")
    assert message in str(refused.value)


def test_unreadable_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(AppealPolicyError, match="cannot be read"):
        load_appeal_policy(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("version = ", encoding="utf-8")
    with pytest.raises(AppealPolicyError, match=f"{broken}: not valid UTF-8 TOML"):
        load_appeal_policy(broken)
