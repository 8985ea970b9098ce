"""The contract's catalogue of the sentences a decision is explained in: complete in every
language, shared by notifications' messages, and refused with file and key when broken."""

import re
import shutil
from pathlib import Path

import pytest

from notifications.templates import default_templates
from socialsvc_common.contract.payloads import Language
from socialsvc_common.explanations import (
    EXPLANATION_DIR,
    MISSING_KEYS,
    REASON_KEYS,
    ExplanationError,
    default_explanations,
    load_explanations,
)


@pytest.mark.parametrize("language", list(Language))
def test_notifications_say_the_catalogues_sentences(language: Language) -> None:
    wording, pack = default_explanations()[language], default_templates()[language]
    assert dict(pack.reasons) == dict(wording.reasons)
    assert dict(pack.missing) == dict(wording.missing)
    assert dict(pack.provision_types) == dict(wording.provision_types)


@pytest.mark.parametrize("language", list(Language))
def test_a_key_the_catalogue_lacks_reads_as_the_generic_sentence(language: Language) -> None:
    wording = default_explanations()[language]
    assert wording.reason("rule_added_later") == wording.fallbacks["reason"]
    assert wording.missing_fact("fact_added_later") == wording.fallbacks["missing"]
    assert wording.provision_type(None) == wording.fallbacks["provision_type"]
    assert {wording.reason(key) for key in REASON_KEYS}.isdisjoint({wording.fallbacks["reason"]})
    assert len({wording.missing_fact(key) for key in MISSING_KEYS}) == len(MISSING_KEYS)


@pytest.mark.parametrize(
    ("file", "key"),
    [("en.toml", "reasons.no_target_group"), ("ru.toml", "missing.disability_group")],
)
def test_a_missing_sentence_is_refused_naming_file_and_key(
    tmp_path: Path, file: str, key: str
) -> None:
    directory = tmp_path / "explanations"
    shutil.copytree(EXPLANATION_DIR, directory)
    path = directory / file
    name = key.split(".")[1]
    text = re.sub(rf"^{name} = .*\n", "", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExplanationError, match=rf"{file}: missing {key}"):
        load_explanations(directory)


def test_a_missing_catalogue_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ExplanationError, match=r"az\.toml"):
        load_explanations(tmp_path)
