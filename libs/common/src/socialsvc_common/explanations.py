"""The sentences a decision is explained in, in each language a citizen may choose.

One catalogue (`data/explanations/<language>.toml`) for every service that explains a decision:
notifications puts the sentences into its messages, intake shows them on the citizen's portal. The
keys are the contract's words (`contract/explanation.py`: Reason, MissingFact; ProvisionType), so
`load_explanations` refuses a file that lacks a sentence for any of them, naming the file and key.
A key the catalogue does not know (a rule added later) reads as the generic fallback sentence.
"""

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from uuid import UUID

from socialsvc_common.contract.explanation import MissingFact, Reason
from socialsvc_common.contract.payloads import Language, ProvisionType

EXPLANATION_DIR = Path(__file__).with_name("data") / "explanations"
REASON_KEYS = tuple(Reason)
MISSING_KEYS = tuple(MissingFact)
FALLBACK_KEYS = ("reason", "missing", "provision_type")


class ExplanationError(ValueError):
    """A catalogue file is unreadable or lacks a sentence; the message names the file and key."""


@dataclass(frozen=True)
class Wording:
    """The sentences of one language."""

    provision_types: Mapping[str, str]
    reasons: Mapping[str, str]
    missing: Mapping[str, str]
    fallbacks: Mapping[str, str]

    def reason(self, key: str) -> str:
        """Why a decision refused: the sentence of `key`, or the generic one."""
        return self.reasons.get(key, self.fallbacks["reason"])

    def missing_fact(self, key: str) -> str:
        """What a decision asks for: the sentence of `key`, or the generic one."""
        return self.missing.get(key, self.fallbacks["missing"])

    def provision_type(self, key: str | None) -> str:
        """The name of a provision type, or the generic one."""
        generic = self.fallbacks["provision_type"]
        return self.provision_types.get(key, generic) if key else generic


Explanations = Mapping[Language, Wording]


def application_ref(application_id: UUID) -> str:
    """A short reference a citizen can read out on the phone, e.g. '1A2B-3C4D': the one their
    messages and the portal name the application by.

    Two groups of four never look like a FIN (seven characters), so logs leave it readable."""
    head = application_id.hex[:8].upper()
    return f"{head[:4]}-{head[4:]}"


def load_explanations(directory: Path = EXPLANATION_DIR) -> Explanations:
    """Every language's sentences from `<directory>/<language>.toml`, validated."""
    return MappingProxyType({lang: _load(directory / f"{lang}.toml") for lang in Language})


@cache
def default_explanations() -> Explanations:
    """The catalogue shipped with the contract, read once."""
    return load_explanations()


def _load(path: Path) -> Wording:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ExplanationError(f"{path}: cannot be read ({exc.strerror})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ExplanationError(f"{path.name}: not valid UTF-8 TOML: {exc}") from exc
    file = path.name
    return Wording(
        provision_types=_table(data, "provision_types", file, tuple(ProvisionType)),
        reasons=_table(data, "reasons", file, REASON_KEYS),
        missing=_table(data, "missing", file, MISSING_KEYS),
        fallbacks=_table(data, "fallbacks", file, FALLBACK_KEYS),
    )


def _table(
    data: dict[str, object], key: str, file: str, required: Iterable[str]
) -> Mapping[str, str]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise ExplanationError(f"{file}: [{key}] is missing or is not a table")
    texts: dict[str, str] = {}
    for name, text in value.items():
        if not isinstance(text, str) or not text.strip():
            raise ExplanationError(f"{file}: {key}.{name} must be a non-empty text")
        texts[name] = text.strip()
    absent = [f"{key}.{name}" for name in required if name not in texts]
    if absent:
        raise ExplanationError(f"{file}: missing {', '.join(absent)}")
    return MappingProxyType(texts)
