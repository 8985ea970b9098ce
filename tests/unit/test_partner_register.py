"""The partner register of socialsvc-partners, as a file: names that cannot overlap another
partner's groups, the current partners from the last line of each, and an owner-only file."""

from pathlib import Path

import pytest

from socialsvc_common.partners import ISSUED, REVOKED, Entry, PartnerError, Register, checked_name


@pytest.mark.parametrize("name", ["umid-x", "Umid", "", "a" * 41, "umid.x", "-umid"])
def test_a_name_that_could_reach_into_another_partners_groups_is_refused(name: str) -> None:
    with pytest.raises(PartnerError):
        checked_name(name)


def test_names_of_letters_and_digits_are_taken() -> None:
    assert checked_name("umid") == "umid"
    assert checked_name("ngo2026") == "ngo2026"


def test_a_partner_is_current_while_its_last_entry_is_an_issue(tmp_path: Path) -> None:
    register = Register(tmp_path / "partners.jsonl")
    at, by = "2026-12-06T10:00:00+00:00", "administrator:aysel"
    register.append(Entry("umid", "Umid NGO", ISSUED, at, by))
    register.append(Entry("humay", "Humay NGO", ISSUED, at, by))
    register.append(Entry("umid", "Umid NGO", REVOKED, at, by))
    assert set(register.current()) == {"humay"}
    register.append(Entry("umid", "Umid NGO", ISSUED, at, by))
    assert set(register.current()) == {"humay", "umid"}
    assert len(register.entries()) == 4
    assert (tmp_path / "partners.jsonl").stat().st_mode & 0o777 == 0o600


def test_a_register_others_may_read_or_a_broken_line_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "partners.jsonl"
    path.write_text('{"partner": "umid"}\n')
    path.chmod(0o600)
    with pytest.raises(PartnerError, match=":1: not a register entry"):
        Register(path).entries()
    path.chmod(0o644)
    with pytest.raises(PartnerError, match="readable by others"):
        Register(path).entries()
