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
    offer_expires_at="2026-12-08T10:00:00+00:00",
    appeal_by="2027-01-05",
    expires_at="2026-12-20T10:00:00+00:00",
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
        _replace(' {reasons} {appeal}"""', ' {appeal}"""'),
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
    (
        "en.toml",
        _replace("The last day to appeal is {appeal_by}.", "Appeal soon."),
        "en.toml: appeal.until: must use {appeal_by} and no other placeholder",
    ),
    (
        "az.toml",
        lambda text: re.sub(r"^open = .*\n", "", text, count=1, flags=re.MULTILINE),
        "az.toml: missing appeal.open",
    ),
    (
        "ru.toml",
        _replace("[offer_answer]", "[offer_answers]"),
        "ru.toml: [offer_answer] is missing",
    ),
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


# The turns of a case after the decision: offers, the service, releases, facts still missing.

TURNS = [
    MessageKind.OFFER_REMINDER,
    MessageKind.OFFER_ACCEPTED,
    MessageKind.OFFER_DECLINED,
    MessageKind.OFFER_LAPSED,
    MessageKind.SERVICE_STARTED,
    MessageKind.SERVICE_ENDED,
    MessageKind.PLACEMENT_RELEASED,
    MessageKind.PLACEMENT_REFUSED,
    MessageKind.INFORMATION_REMINDER,
    MessageKind.APPLICATION_EXPIRED,
]
# Each turn's words, so a test fails when a text says something else than its kind.
TURN_WORDS = {
    Language.EN: {
        MessageKind.OFFER_REMINDER: "held for you until",
        MessageKind.OFFER_ACCEPTED: "you have accepted",
        MessageKind.OFFER_DECLINED: "you have declined",
        MessageKind.OFFER_LAPSED: "not accepted in time",
        MessageKind.SERVICE_STARTED: "has started",
        MessageKind.SERVICE_ENDED: "has ended",
        MessageKind.PLACEMENT_RELEASED: "has been stopped",
        MessageKind.PLACEMENT_REFUSED: "cannot arrange",
        MessageKind.INFORMATION_REMINDER: "still waiting",
        MessageKind.APPLICATION_EXPIRED: "has been closed",
    },
    Language.AZ: {
        MessageKind.OFFER_REMINDER: "saxlanılır",
        MessageKind.OFFER_ACCEPTED: "qəbul etdiniz",
        MessageKind.OFFER_DECLINED: "imtina etdiniz",
        MessageKind.OFFER_LAPSED: "vaxtında qəbul edilmədi",
        MessageKind.SERVICE_STARTED: "başladı",
        MessageKind.SERVICE_ENDED: "başa çatdı",
        MessageKind.PLACEMENT_RELEASED: "dayandırıldı",
        MessageKind.PLACEMENT_REFUSED: "mümkün deyil",
        MessageKind.INFORMATION_REMINDER: "hələ də gözlənilir",
        MessageKind.APPLICATION_EXPIRED: "bağlandı",
    },
    Language.RU: {
        MessageKind.OFFER_REMINDER: "сохраняется за вами",
        MessageKind.OFFER_ACCEPTED: "вы приняли",
        MessageKind.OFFER_DECLINED: "вы отказались",
        MessageKind.OFFER_LAPSED: "не было принято вовремя",
        MessageKind.SERVICE_STARTED: "начались",
        MessageKind.SERVICE_ENDED: "завершены",
        MessageKind.PLACEMENT_RELEASED: "прекращены",
        MessageKind.PLACEMENT_REFUSED: "невозможно",
        MessageKind.INFORMATION_REMINDER: "всё ещё ждём",
        MessageKind.APPLICATION_EXPIRED: "закрыто",
    },
}
# Appeal sentences name the portal in every language; the last day only when the event gives one.
APPEAL_WORDS = {Language.EN: "appeal", Language.AZ: "şikayət", Language.RU: "жалобу"}


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("kind", TURNS)
def test_each_turn_says_what_happened(kind: MessageKind, language: Language) -> None:
    message = render(kind, language, CONTEXT)
    words = TURN_WORDS[language][kind]
    assert words.lower() in message.sms.lower()
    assert words.lower() in message.body.lower()


@pytest.mark.parametrize("language", list(Language))
def test_offer_times_are_told_in_baku_time(language: Language) -> None:
    # 10:00 UTC is 14:00 in Baku.
    for kind in (MessageKind.PLACEMENT_MADE, MessageKind.OFFER_REMINDER):
        message = render(kind, language, CONTEXT)
        for text in (message.sms, message.body):
            assert "08.12.2026" in text
            assert "14:00" in text
    reminder = render(MessageKind.OFFER_REMINDER, language, CONTEXT)
    assert "08.12.2026" in reminder.subject


@pytest.mark.parametrize("language", list(Language))
def test_an_offer_without_an_end_asks_for_an_answer_without_a_date(language: Language) -> None:
    context = MessageContext(application_ref="1A2B-3C4D", provider_name="Yasamal team 3")
    message = render(MessageKind.PLACEMENT_MADE, language, context)
    sentences = default_templates()[language].sentences["offer_answer"]
    assert sentences["open"] in message.sms
    assert sentences["open"] in message.body
    assert not re.search(r"\d\d\.\d\d\.\d{4}", message.body)


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize(
    "kind",
    [
        MessageKind.DECISION_INELIGIBLE,
        MessageKind.PLACEMENT_REFUSED,
        MessageKind.SERVICE_ENDED,
        MessageKind.PLACEMENT_RELEASED,
    ],
)
def test_appealable_turns_say_how_to_appeal_and_by_when(
    kind: MessageKind, language: Language
) -> None:
    dated = render(kind, language, CONTEXT)
    for text in (dated.sms, dated.body):
        assert APPEAL_WORDS[language] in text
        assert "e-gov.az" in text
        assert "05.01.2027" in text
    undated = render(kind, language, MessageContext(application_ref="1A2B-3C4D"))
    sentences = default_templates()[language].sentences["appeal"]
    assert sentences["open"] in undated.sms
    assert sentences["open"] in undated.body
    assert "05.01.2027" not in undated.body


@pytest.mark.parametrize("language", list(Language))
def test_a_refusal_states_each_reason_with_what_would_change_it(language: Language) -> None:
    pack = default_templates()[language]
    for key in REASON_KEYS:
        # What was found, then what would change it: two sentences at least.
        sentences = [part for part in pack.reasons[key].split(". ") if part.strip()]
        assert len(sentences) >= 2, key


@pytest.mark.parametrize("language", list(Language))
def test_the_information_reminder_lists_the_facts_and_the_closing_date(language: Language) -> None:
    message = render(MessageKind.INFORMATION_REMINDER, language, CONTEXT)
    sentence = default_templates()[language].missing["disability_group"]
    assert f"- {sentence}" in message.body
    assert sentence in message.sms
    assert "20.12.2026" in message.sms
    assert "20.12.2026" in message.body
