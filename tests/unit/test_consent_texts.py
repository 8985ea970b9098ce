"""The consent texts: the packaged versions load, a broken file is refused naming what is wrong,
and a submission's stated version is accepted only while it is in force."""

from datetime import date
from pathlib import Path

import pytest

from intake.consent_texts import (
    ConsentTextError,
    ConsentTextNotInForce,
    UnknownConsentText,
    load_consent_texts,
)
from socialsvc_common.contract.payloads import ConsentPurpose, Language

GOOD = """
version = "{version}"
effective_from = {start}
{end}
purposes = ["eligibility_assessment", "contact"]

[texts.az]
title = "Razılıq"
body = "Razıyam."

[texts.ru]
title = "Согласие"
body = "Согласен."

[texts.en]
title = "Consent"
body = "I agree."
"""


def write(directory: Path, version: str, start: str, end: str = "", text: str = GOOD) -> Path:
    path = directory / f"{version.replace('.', '-')}.toml"
    path.write_text(text.format(version=version, start=start, end=end), encoding="utf-8")
    return path


def test_the_packaged_texts_load_and_one_is_in_force_today() -> None:
    texts = load_consent_texts()
    assert [t.version for t in texts.versions] == ["2026.0", "2026.1"]
    current = texts.current(date(2026, 12, 6))
    assert current.version == "2026.1"
    assert set(current.texts) == set(Language)
    assert ConsentPurpose.ELIGIBILITY_ASSESSMENT in current.purposes


def test_without_a_stated_version_the_current_one_is_taken() -> None:
    texts = load_consent_texts()
    assert texts.accepted(None, date(2026, 12, 6)).version == "2026.1"
    assert texts.accepted(None, date(2026, 6, 1)).version == "2026.0"


def test_an_unknown_version_is_refused() -> None:
    with pytest.raises(UnknownConsentText, match=r"no consent text version 1999\.9"):
        load_consent_texts().accepted("1999.9", date(2026, 12, 6))


def test_a_version_no_longer_in_force_is_refused_naming_the_current_one() -> None:
    with pytest.raises(ConsentTextNotInForce, match=r"not in force on 2026-12-06.*version 2026\.1"):
        load_consent_texts().accepted("2026.0", date(2026, 12, 6))


def test_a_version_not_yet_in_force_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "2026.1", "2026-01-01")
    write(tmp_path, "2027.1", "2027-01-01")
    texts = load_consent_texts(tmp_path)
    assert texts.current(date(2026, 12, 31)).version == "2026.1"
    with pytest.raises(ConsentTextNotInForce):
        texts.accepted("2027.1", date(2026, 12, 31))
    assert texts.accepted("2027.1", date(2027, 1, 1)).version == "2027.1"


def test_no_text_in_force_is_an_error_not_a_guess(tmp_path: Path) -> None:
    write(tmp_path, "2026.1", "2026-01-01", "effective_to = 2026-06-30")
    with pytest.raises(ConsentTextNotInForce, match="no consent text is in force on 2026-07-01"):
        load_consent_texts(tmp_path).current(date(2026, 7, 1))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace('[texts.ru]\ntitle = "Согласие"\nbody = "Согласен."\n', ""), "ru"),
        (lambda t: t.replace('"contact"', '"marketing"'), "purposes.1"),
        (lambda t: t.replace('"contact"', '"eligibility_assessment"'), "a purpose is named twice"),
        (lambda t: t.replace("purposes = [", "purpose = ["), "purpose: Extra inputs"),
        (lambda t: t.replace('body = "I agree."', 'body = ""'), "texts.en.body"),
        (lambda t: t + "\n[texts.de]\ntitle = 'x'\nbody = 'y'\n", "texts.de"),
        (lambda t: t.replace('title = "Consent"', 'title = "Consent'), "not valid TOML"),
    ],
)
def test_a_broken_file_is_refused_naming_the_file_and_the_field(
    tmp_path: Path, change: object, message: str
) -> None:
    assert callable(change)
    path = write(tmp_path, "2026.1", "2026-01-01", text=change(GOOD))
    with pytest.raises(ConsentTextError, match=message) as refused:
        load_consent_texts(tmp_path)
    assert path.name in str(refused.value)


def test_the_version_must_match_the_file_name(tmp_path: Path) -> None:
    (tmp_path / "2026-2.toml").write_text(
        GOOD.format(version="2026.1", start="2026-01-01", end=""), encoding="utf-8"
    )
    with pytest.raises(ConsentTextError, match="does not match the file's name"):
        load_consent_texts(tmp_path)


def test_an_end_before_the_start_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "2026.1", "2026-06-01", "effective_to = 2026-01-01")
    with pytest.raises(ConsentTextError, match="effective_to is before effective_from"):
        load_consent_texts(tmp_path)


def test_an_empty_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConsentTextError, match="no consent text files"):
        load_consent_texts(tmp_path)
