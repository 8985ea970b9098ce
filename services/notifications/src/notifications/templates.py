"""Messages in the citizen's language, rendered by pure functions from the template catalogue.

`render` never raises on a missing value (it leaves the gap empty): the catalogue was checked when
it was loaded, so a bad template fails a test or the start-up, never a citizen's message.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from notifications.quiet_hours import BAKU
from notifications.template_catalogue import (
    DATED_SENTENCES,
    PLACEHOLDERS,
    TEMPLATE_DIR,
    LanguageTemplates,
    MessageKind,
    TemplateError,
    Templates,
    load_templates,
)
from socialsvc_common.contract.payloads import Language
from socialsvc_common.explanations import MISSING_KEYS, REASON_KEYS, application_ref

__all__ = [
    "MISSING_KEYS",
    "PLACEHOLDERS",
    "REASON_KEYS",
    "TEMPLATE_DIR",
    "MessageContext",
    "MessageKind",
    "RenderedMessage",
    "TemplateError",
    "Templates",
    "application_ref",
    "default_templates",
    "load_templates",
    "render",
]


@dataclass(frozen=True)
class RenderedMessage:
    sms: str
    subject: str
    body: str


@dataclass(frozen=True)
class MessageContext:
    """The values a message may mention. Keys (provision types, reasons, missing facts) are
    translated by the templates; application_ref is a short reference, never a FIN."""

    application_ref: str
    provider_name: str = ""
    provision_type: str | None = None
    provision_types: Sequence[str] = ()
    district: str = ""
    reasons: Sequence[str] = ()
    missing: Sequence[str] = ()
    # ISO 8601 texts, as stored with the message: an offer's end, an appeal's last day, the
    # moment an application waiting for facts expires.
    offer_expires_at: str | None = None
    appeal_by: str | None = None
    expires_at: str | None = None
    # Never told: which placement a message is about, so an answer cancels its own offer's
    # reminder and no other.
    placement_id: str | None = None


@cache
def default_templates() -> Templates:
    """The templates shipped with the service, read once."""
    return load_templates()


def render(
    kind: MessageKind,
    language: Language,
    context: MessageContext,
    templates: Templates | None = None,
) -> RenderedMessage:
    """The SMS, e-mail subject and e-mail body of one message, in the citizen's language."""
    catalogue = templates if templates is not None else default_templates()
    # The contract validates the language; Azerbaijani is the default should one slip through.
    pack = catalogue.get(language) or catalogue[Language.AZ]
    texts = pack.messages[MessageKind(kind)]
    body = _fill(texts["body"], _values(pack, context, listed=True))
    return RenderedMessage(
        sms=_fill(texts["sms"], _values(pack, context, listed=False)),
        subject=_fill(texts["subject"], _values(pack, context, listed=False)),
        body=f"{pack.greeting}\n\n{body}\n\n{pack.closing}\n",
    )


class _Lenient(dict[str, str]):
    # A value nobody supplied renders as nothing rather than failing a citizen's message.
    def __missing__(self, key: str) -> str:
        return ""


def _fill(text: str, values: dict[str, str]) -> str:
    return text.format_map(_Lenient(values))


def _unique(items: Iterable[str]) -> list[str]:
    # Two unknown keys both fall back to the same sentence; say it once.
    return list(dict.fromkeys(items))


def _values(pack: LanguageTemplates, context: MessageContext, *, listed: bool) -> dict[str, str]:
    def sentences(keys: Sequence[str], table: Mapping[str, str], fallback: str) -> str:
        generic = pack.fallbacks[fallback]
        found = _unique(table.get(key, generic) for key in keys) or [generic]
        return "\n".join(f"- {s}" for s in found) if listed else " ".join(found)

    def provision(key: str | None) -> str:
        generic = pack.fallbacks["provision_type"]
        return pack.provision_types.get(key, generic) if key else generic

    def dated(name: str, value: str) -> str:
        texts = pack.sentences[name]
        if not value:
            return texts["open"]
        return texts["until"].format_map({DATED_SENTENCES[name]: value})

    names = _unique(provision(key) for key in context.provision_types) or [provision(None)]
    offer_expires = _moment(context.offer_expires_at, pack.date_time)
    appeal_by = _day(context.appeal_by, pack.date)
    return {
        "application_ref": context.application_ref,
        "provider_name": context.provider_name,
        "district": context.district,
        "provision_type": provision(context.provision_type),
        "provision_types": ", ".join(names),
        "reasons": sentences(context.reasons, pack.reasons, "reason"),
        "missing": sentences(context.missing, pack.missing, "missing"),
        "offer_expires": offer_expires,
        "offer_answer": dated("offer_answer", offer_expires),
        "appeal": dated("appeal", appeal_by),
        "expires_on": _moment(context.expires_at, pack.date),
    }


def _moment(value: str | None, form: str) -> str:
    # A moment is told in Baku time, where the citizen lives; an unreadable one as nothing.
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError:
        return ""
    if moment is None:
        return ""
    return (moment if moment.tzinfo is None else moment.astimezone(BAKU)).strftime(form)


def _day(value: str | None, form: str) -> str:
    try:
        return date.fromisoformat(value[:10]).strftime(form) if value else ""
    except ValueError:
        return ""
