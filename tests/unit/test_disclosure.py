from datetime import UTC, datetime
from pathlib import Path

import pytest

from socialsvc_common.contract.payloads import TargetGroup
from socialsvc_common.disclosure import (
    PROTECTED,
    DisclosurePolicy,
    DisclosurePolicyError,
    default_disclosure_policy,
    load_disclosure_policy,
)

POLICY = DisclosurePolicy(
    version="test",
    min_cell=5,
    sensitive_groups=frozenset(
        {TargetGroup.TRAFFICKING_VICTIM, TargetGroup.DOMESTIC_VIOLENCE_VICTIM}
    ),
    public_time_minutes=60,
)


def test_the_shipped_policy_withholds_counts_under_five_and_names_the_victims_groups() -> None:
    policy = default_disclosure_policy()
    assert policy.min_cell == 5
    assert TargetGroup.TRAFFICKING_VICTIM in policy.sensitive_groups


def test_counts_under_k_are_withheld_and_zero_and_k_are_shown() -> None:
    shown = POLICY.suppress({"a": 0, "b": 4, "c": 5, "d": 9, "e": 1}, total_shown=False)
    assert shown == {"a": 0, "b": None, "c": 5, "d": 9, "e": None}


def test_a_lone_withheld_cell_takes_the_smallest_other_with_it_when_the_total_is_shown() -> None:
    shown = POLICY.suppress({"a": 3, "b": 40, "c": 7, "d": 0})
    assert shown == {"a": None, "b": 40, "c": None, "d": 0}
    assert POLICY.suppress({"a": 3}, total_shown=False) == {"a": None}


def test_sensitive_groups_merge_into_protected_only_when_one_of_them_is_small() -> None:
    counts = {"elderly": 50, "trafficking_victim": 2, "domestic_violence_victim": 6}
    assert POLICY.generalise_groups(counts) == {"elderly": 50, PROTECTED: 8}
    large = {"elderly": 50, "trafficking_victim": 7, "domestic_violence_victim": 6}
    assert POLICY.generalise_groups(large) == large


def test_public_records_name_no_sensitive_group_and_times_are_cut_to_the_hour() -> None:
    groups = [TargetGroup.ELDERLY, TargetGroup.TRAFFICKING_VICTIM]
    assert POLICY.public_groups(groups) == [TargetGroup.ELDERLY]
    at = datetime(2026, 12, 6, 13, 47, 12, 5, tzinfo=UTC)
    assert POLICY.coarsen(at) == datetime(2026, 12, 6, 13, tzinfo=UTC)


def test_a_bad_policy_names_its_field(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        'version = "x"\nmin_cell = 0\nsensitive_groups = ["nobody"]\npublic_time_minutes = 60\n'
    )
    with pytest.raises(DisclosurePolicyError) as error:
        load_disclosure_policy(path)
    assert "min_cell" in str(error.value)
    assert "sensitive_groups" in str(error.value)
