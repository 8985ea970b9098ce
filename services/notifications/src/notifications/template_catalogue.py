"""What a template file must hold, and loading it: kinds, placeholders, required sentences.

The texts are policy, so they live in `templates/<language>.toml`, not in code. `load_templates`
refuses a file that lacks a kind, a part or a sentence, or that uses a placeholder its kind does not
know, naming the file and key: a bad template fails a test or the start-up, never a citizen's
message. The sentences that explain a decision (reasons, missing facts, provision types) come from
the contract's catalogue (`socialsvc_common.explanations`), which intake's portal shares.
"""

import string
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType

from socialsvc_common.contract.payloads import Language
from socialsvc_common.explanations import Explanations, Wording, default_explanations

TEMPLATE_DIR = Path(__file__).with_name("templates")


class MessageKind(StrEnum):
    RECEIVED = "received"
    DECISION_ELIGIBLE = "decision_eligible"
    DECISION_INELIGIBLE = "decision_ineligible"
    DECISION_NEEDS_INFORMATION = "decision_needs_information"
    PLACEMENT_MADE = "placement_made"
    PLACEMENT_WAITLISTED = "placement_waitlisted"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    APPEAL_RECEIVED = "appeal_received"
    APPEAL_UPHELD = "appeal_upheld"
    APPEAL_OVERTURNED = "appeal_overturned"
    REVIEW_DUE = "review_due"
    REVIEW_CONTINUED = "review_continued"
    REVIEW_ENDED = "review_ended"
    OFFER_REMINDER = "offer_reminder"
    OFFER_ACCEPTED = "offer_accepted"
    OFFER_DECLINED = "offer_declined"
    OFFER_LAPSED = "offer_lapsed"
    SERVICE_STARTED = "service_started"
    SERVICE_ENDED = "service_ended"
    PLACEMENT_RELEASED = "placement_released"
    PLACEMENT_REFUSED = "placement_refused"
    INFORMATION_REMINDER = "information_reminder"
    APPLICATION_EXPIRED = "application_expired"
    PROACTIVE_OFFER = "proactive_offer"


PARTS = ("sms", "subject", "body")

# What each kind must say in its SMS and body (the subject may use any of them but the lists);
# a placeholder outside its kind's set is a typo or a value the service does not supply.
PLACEHOLDERS: Mapping[MessageKind, frozenset[str]] = MappingProxyType(
    {
        MessageKind.RECEIVED: frozenset({"application_ref"}),
        MessageKind.DECISION_ELIGIBLE: frozenset({"application_ref", "provision_types"}),
        MessageKind.DECISION_INELIGIBLE: frozenset({"application_ref", "reasons", "appeal"}),
        MessageKind.DECISION_NEEDS_INFORMATION: frozenset({"application_ref", "missing"}),
        MessageKind.PLACEMENT_MADE: frozenset(
            {"application_ref", "provider_name", "provision_type", "district", "offer_answer"}
        ),
        MessageKind.PLACEMENT_WAITLISTED: frozenset(
            {"application_ref", "provision_type", "district"}
        ),
        MessageKind.CONSENT_WITHDRAWN: frozenset({"application_ref"}),
        MessageKind.APPEAL_RECEIVED: frozenset({"application_ref"}),
        MessageKind.APPEAL_UPHELD: frozenset({"application_ref"}),
        MessageKind.APPEAL_OVERTURNED: frozenset({"application_ref"}),
        MessageKind.REVIEW_DUE: frozenset({"application_ref", "provision_type"}),
        MessageKind.REVIEW_CONTINUED: frozenset({"application_ref", "provision_type"}),
        MessageKind.REVIEW_ENDED: frozenset({"application_ref", "provision_type", "appeal"}),
        MessageKind.OFFER_REMINDER: frozenset({"application_ref", "offer_expires"}),
        MessageKind.OFFER_ACCEPTED: frozenset({"application_ref"}),
        MessageKind.OFFER_DECLINED: frozenset({"application_ref"}),
        MessageKind.OFFER_LAPSED: frozenset({"application_ref"}),
        MessageKind.SERVICE_STARTED: frozenset({"application_ref"}),
        MessageKind.SERVICE_ENDED: frozenset({"application_ref", "appeal"}),
        MessageKind.PLACEMENT_RELEASED: frozenset({"application_ref", "appeal"}),
        MessageKind.PLACEMENT_REFUSED: frozenset({"application_ref", "provision_types", "appeal"}),
        MessageKind.INFORMATION_REMINDER: frozenset({"application_ref", "missing", "expires_on"}),
        MessageKind.APPLICATION_EXPIRED: frozenset({"application_ref"}),
        MessageKind.PROACTIVE_OFFER: frozenset(
            {"application_ref", "provision_types", "expires_on"}
        ),
    }
)
# Lists and whole sentences do not fit a one-line subject.
LIST_PLACEHOLDERS = frozenset({"reasons", "missing", "appeal", "offer_answer"})
# Sentences said with a date when the event gives one, and without it otherwise: `until` must
# name the date's placeholder, `open` none.
DATED_SENTENCES: Mapping[str, str] = MappingProxyType(
    {"appeal": "appeal_by", "offer_answer": "offer_expires"}
)


class TemplateError(ValueError):
    """A template file is unreadable, incomplete, or uses a placeholder its message kind lacks."""


@dataclass(frozen=True)
class LanguageTemplates:
    greeting: str
    closing: str
    # strftime formats of a date and of a moment (in Baku time).
    date: str
    date_time: str
    provision_types: Mapping[str, str]
    reasons: Mapping[str, str]
    missing: Mapping[str, str]
    fallbacks: Mapping[str, str]
    # DATED_SENTENCES: each with its `until` and `open` texts.
    sentences: Mapping[str, Mapping[str, str]]
    messages: Mapping[MessageKind, Mapping[str, str]]


Templates = Mapping[Language, LanguageTemplates]


def load_templates(
    directory: Path = TEMPLATE_DIR, explanations: Explanations | None = None
) -> Templates:
    """Every language's templates from `<directory>/<language>.toml`, validated, with the
    sentences of `explanations` (the contract's catalogue by default)."""
    wordings = explanations if explanations is not None else default_explanations()
    return MappingProxyType(
        {lang: _load_language(directory / f"{lang}.toml", wordings[lang]) for lang in Language}
    )


def _load_language(path: Path, wording: Wording) -> LanguageTemplates:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TemplateError(f"{path}: cannot be read ({exc.strerror})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{path.name}: not valid UTF-8 TOML: {exc}") from exc
    file = path.name
    letter = _strings(
        data.get("letter"), "letter", file, ("greeting", "closing", "date", "date_time")
    )
    return LanguageTemplates(
        greeting=letter["greeting"],
        closing=letter["closing"],
        date=letter["date"],
        date_time=letter["date_time"],
        provision_types=wording.provision_types,
        reasons=wording.reasons,
        missing=wording.missing,
        fallbacks=wording.fallbacks,
        sentences=MappingProxyType(
            {name: _dated(data.get(name), name, file) for name in DATED_SENTENCES}
        ),
        messages=_messages(data.get("messages"), file),
    )


def _dated(value: object, key: str, file: str) -> Mapping[str, str]:
    texts = _strings(value, key, file, ("until", "open"))
    date = DATED_SENTENCES[key]
    for part, wanted in (("until", {date}), ("open", set())):
        used = _placeholders(texts[part], f"{file}: {key}.{part}")
        if used != wanted:
            named = f"{{{date}}} and no other placeholder" if wanted else "no placeholder"
            raise TemplateError(f"{file}: {key}.{part}: must use {named}")
    return MappingProxyType(texts)


def _strings(value: object, key: str, file: str, required: Iterable[str]) -> dict[str, str]:
    if not isinstance(value, dict):
        raise TemplateError(f"{file}: [{key}] is missing or is not a table")
    texts: dict[str, str] = {}
    for name, text in value.items():
        if not isinstance(text, str) or not text.strip():
            raise TemplateError(f"{file}: {key}.{name} must be a non-empty text")
        texts[name] = text.strip()
    absent = [f"{key}.{name}" for name in required if name not in texts]
    if absent:
        raise TemplateError(f"{file}: missing {', '.join(absent)}")
    return texts


def _messages(value: object, file: str) -> Mapping[MessageKind, Mapping[str, str]]:
    if not isinstance(value, dict):
        raise TemplateError(f"{file}: [messages] is missing or is not a table")
    unknown = sorted(set(value) - set(MessageKind))
    if unknown:
        raise TemplateError(
            f"{file}: messages.{unknown[0]} is not a message kind; kinds: {', '.join(MessageKind)}"
        )
    messages: dict[MessageKind, Mapping[str, str]] = {}
    for kind in MessageKind:
        key = f"messages.{kind}"
        texts = _strings(value.get(kind), key, file, PARTS)
        extra = sorted(set(texts) - set(PARTS))
        if extra:
            parts = ", ".join(PARTS)
            raise TemplateError(f"{file}: {key}.{extra[0]} is not a part; parts: {parts}")
        _check_placeholders(kind, texts, f"{file}: {key}")
        messages[kind] = MappingProxyType(texts)
    return MappingProxyType(messages)


def _check_placeholders(kind: MessageKind, texts: Mapping[str, str], where: str) -> None:
    allowed = PLACEHOLDERS[kind]
    for part in PARTS:
        used = _placeholders(texts[part], f"{where}.{part}")
        permitted = allowed - LIST_PLACEHOLDERS if part == "subject" else allowed
        refused = used - permitted
        if refused:
            raise TemplateError(
                f"{where}.{part}: placeholder {{{sorted(refused)[0]}}} is not allowed here; "
                f"allowed: {', '.join(sorted(permitted))}"
            )
        absent = allowed - used
        if part != "subject" and absent:
            raise TemplateError(f"{where}.{part}: lacks placeholder {{{sorted(absent)[0]}}}")
    if "\n" in texts["subject"]:
        raise TemplateError(f"{where}.subject: must be a single line")


def _placeholders(text: str, where: str) -> set[str]:
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError as exc:  # an unmatched brace
        raise TemplateError(f"{where}: {exc}; write a literal brace as {{{{ or }}}}") from exc
    names: set[str] = set()
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise TemplateError(f"{where}: placeholder {{{name}}} must be a plain name")
        names.add(name)
    return names
