"""Message templates: every kind renders in every language, in proper letters and plain sentences;
a broken template file is refused at load time, naming the file and the key."""

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

import pytest

from notifications.sms import encoding
from notifications.templates import (
    MISSING_KEYS,
    REASON_KEYS,
    TEMPLATE_DIR,
    MessageContext,
    MessageKind,
    TemplateError,
    application_ref,
    default_templates,
    load_templates,
    render,
)
from socialsvc_common.contract.payloads import Language, ProvisionType
from socialsvc_common.logs import redact_text

AZ_LETTERS = "əğ\N{LATIN SMALL LETTER DOTLESS I}şçöü"
CYRILLIC = re.compile(r"[\u0430-\u044f\u0451]", re.IGNORECASE)  # Cyrillic a to ya, and yo

# Plain ASCII values, so any Azerbaijani letter in a result comes from the templates themselves.
CONTEXT = MessageContext(
    application_ref="1A2B-3C4D",
    provider_name="Yasamal team 3",
    provision_type=ProvisionType.HOME_CARE,
    provision_types=[ProvisionType.HOME_CARE, ProvisionType.NGO_PROJECT],
    district="Yasamal",
    reasons=["income_above_need_criterion"],
    missing=["disability_group"],
)


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("kind", list(MessageKind))
def test_every_kind_renders_in_every_language(kind: MessageKind, language: Language) -> None:
    message = render(kind, language, CONTEXT)
    for text in (message.sms, message.subject, message.body):
        assert text.strip()
        assert "{" not in text
        assert "}" not in text
    assert "1A2B-3C4D" in message.sms
    assert "1A2B-3C4D" in message.body
    assert "\n" not in message.subject


def test_azerbaijani_texts_are_written_in_azerbaijani_letters() -> None:
    rendered = [render(kind, Language.AZ, CONTEXT) for kind in MessageKind]
    everything = " ".join(f"{m.sms} {m.subject} {m.body}" for m in rendered)
    for letter in AZ_LETTERS:
        assert letter in everything, letter
    assert all("ə" in m.sms and "ə" in m.body for m in rendered)
    # ä is the usual stand-in for ə where the keyboard lacks it; it is not Azerbaijani.
    assert "ä" not in everything


def test_russian_texts_are_in_cyrillic() -> None:
    for kind in MessageKind:
        message = render(kind, Language.RU, CONTEXT)
        assert CYRILLIC.search(message.sms)
        assert CYRILLIC.search(message.subject)


def test_provision_types_have_their_names() -> None:
    names = default_templates()[Language.AZ].provision_types
    assert names == {
        "home_care": "evdə sosial xidmət",
        "residential": "sosial xidmət müəssisəsi",
        "ngo_project": "QHT layihəsi (sosial sifariş)",
    }
    made = render(MessageKind.PLACEMENT_MADE, Language.AZ, CONTEXT)
    assert "Xidmət növü: evdə sosial xidmət" in made.body
    eligible = render(MessageKind.DECISION_ELIGIBLE, Language.AZ, CONTEXT)
    assert "evdə sosial xidmət, QHT layihəsi (sosial sifariş)" in eligible.sms


@pytest.mark.parametrize("language", list(Language))
def test_reasons_become_sentences_in_the_citizens_language(language: Language) -> None:
    keys = ["income_above_need_criterion", "no_target_group"]
    context = MessageContext(application_ref="1A2B-3C4D", reasons=keys)
    message = render(MessageKind.DECISION_INELIGIBLE, language, context)
    first, second = (default_templates()[language].reasons[key] for key in keys)
    assert f"- {first}\n- {second}" in message.body
    assert f"{first} {second}" in message.sms
    assert not any(key in message.body or key in message.sms for key in keys)


@pytest.mark.parametrize("language", list(Language))
def test_missing_facts_become_sentences(language: Language) -> None:
    context = MessageContext(application_ref="1A2B-3C4D", missing=list(MISSING_KEYS))
    message = render(MessageKind.DECISION_NEEDS_INFORMATION, language, context)
    for key in MISSING_KEYS:
        sentence = default_templates()[language].missing[key]
        assert f"- {sentence}" in message.body
        assert sentence in message.sms
        assert key not in message.body


@pytest.mark.parametrize("language", list(Language))
def test_every_known_key_reads_as_a_sentence(language: Language) -> None:
    pack = default_templates()[language]
    for sentence in [
        *(pack.reasons[k] for k in REASON_KEYS),
        *(pack.missing[k] for k in MISSING_KEYS),
    ]:
        assert sentence[0].isupper()
        assert sentence.endswith(".")


def test_unknown_reason_key_falls_back_to_a_generic_sentence_once() -> None:
    context = MessageContext(application_ref="1A2B-3C4D", reasons=["rule_added_later", "another"])
    message = render(MessageKind.DECISION_INELIGIBLE, Language.AZ, context)
    generic = default_templates()[Language.AZ].fallbacks["reason"]
    assert message.body.count(generic) == 1
    assert "rule_added_later" not in message.body
    assert "rule_added_later" not in message.sms


def test_empty_lists_and_unknown_provision_type_still_read_well() -> None:
    context = MessageContext(application_ref="1A2B-3C4D", provision_type="day_care_centre")
    fallbacks = default_templates()[Language.EN].fallbacks
    assert fallbacks["reason"] in render(MessageKind.DECISION_INELIGIBLE, Language.EN, context).sms
    assert (
        fallbacks["missing"]
        in render(MessageKind.DECISION_NEEDS_INFORMATION, Language.EN, context).sms
    )
    made = render(MessageKind.PLACEMENT_MADE, Language.EN, context)
    assert f"Type of service: {fallbacks['provision_type']}" in made.body


def test_english_sms_stay_in_the_cheaper_gsm_alphabet() -> None:
    for kind in MessageKind:
        assert encoding(render(kind, Language.EN, CONTEXT).sms) == "gsm7", kind


def test_application_ref_is_short_and_never_looks_like_a_fin() -> None:
    ref = application_ref(uuid4())
    assert re.fullmatch(r"[0-9A-F]{4}-[0-9A-F]{4}", ref)
    assert redact_text(f"application {ref}") == f"application {ref}"


def _replace(old: str, new: str) -> Callable[[str], str]:
    def mutate(text: str) -> str:
        assert text.count(old) == 1, old
        return text.replace(old, new)

    return mutate


BROKEN = [
    (
        "az.toml",
        _replace('Qərar barədə sizə xəbər veriləcək."""', 'Qərar barədə {provider} veriləcək."""'),
        "az.toml: messages.received.sms: placeholder {provider} is not allowed here",
    ),
    (
        "ru.toml",
        lambda text: text.split("[messages.placement_waitlisted]")[0],
        "ru.toml: [messages.placement_waitlisted] is missing",
    ),
    (
        "en.toml",
        _replace(' {reasons}"""', '"""'),
        "en.toml: messages.decision_ineligible.sms: lacks placeholder {reasons}",
    ),
    (
        "en.toml",
        _replace("Decision on your application (", "Decision {reasons} ("),
        "en.toml: messages.decision_ineligible.subject: placeholder {reasons} is not allowed",
    ),
    (
        "az.toml",
        _replace("qəbul edildi ({application_ref})", "qəbul edildi ({application_ref)"),
        "az.toml: messages.received.subject",
    ),
    (
        "az.toml",
        _replace("[messages.received]", "[messages.recieved]"),
        "az.toml: messages.recieved is not a message kind",
    ),
    ("ru.toml", lambda _: "sms = [", "ru.toml: not valid UTF-8 TOML"),
]


@pytest.mark.parametrize(("file", "mutate", "expected"), BROKEN)
def test_a_broken_template_is_refused_naming_file_and_key(
    tmp_path: Path, file: str, mutate: Callable[[str], str], expected: str
) -> None:
    directory = tmp_path / "templates"
    shutil.copytree(TEMPLATE_DIR, directory)
    path = directory / file
    path.write_text(mutate(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(TemplateError) as error:
        load_templates(directory)
    assert expected in str(error.value)


def test_a_missing_template_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"az\.toml"):
        load_templates(tmp_path)


def test_a_value_nobody_supplied_renders_empty_rather_than_failing() -> None:
    message = render(MessageKind.PLACEMENT_MADE, Language.AZ, MessageContext(application_ref="X"))
    assert "Xidmət göstərən təşkilat: \n" in message.body
