"""The consent texts a citizen is shown, read from versioned files under `consent/`.

Policy is data: a new wording is a new file with a later `effective_from`, never a code change. A
file that lacks a language, names an unknown purpose or field, or whose version does not match
its name is refused whole, naming the file, so a broken text stops intake at start-up rather than
being recorded against a citizen's consent.
"""

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from socialsvc_common.contract.payloads import CONSENT_VERSION_PATTERN, ConsentPurpose, Language

CONSENT_DIR = Path(__file__).parent / "consent"


class ConsentTextError(Exception):
    """A consent text file cannot be used; the message names the file and what is wrong."""


class UnknownConsentText(LookupError):
    """No consent text has this version."""


class ConsentTextNotInForce(LookupError):
    """The version exists, but a form may not show it on this day (not yet, or no longer)."""


class _Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConsentWording(_Policy):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=10_000)


class ConsentText(_Policy):
    """One version of the consent text: what the person agrees to, in every language."""

    version: str = Field(pattern=CONSENT_VERSION_PATTERN)
    effective_from: date
    effective_to: date | None = None
    purposes: tuple[ConsentPurpose, ...] = Field(min_length=1)
    texts: dict[Language, ConsentWording]

    @model_validator(mode="after")
    def _complete(self) -> Self:
        missing = [language.value for language in Language if language not in self.texts]
        if missing:
            raise ValueError(f"texts missing for languages: {', '.join(missing)}")
        if len(set(self.purposes)) != len(self.purposes):
            raise ValueError("a purpose is named twice")
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        return self

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


@dataclass(frozen=True)
class ConsentTexts:
    """Every version, oldest first."""

    versions: tuple[ConsentText, ...]

    def current(self, day: date) -> ConsentText:
        """The newest version in force on `day`: the one a form shows."""
        in_force = [text for text in self.versions if text.in_force(day)]
        if not in_force:
            raise ConsentTextNotInForce(f"no consent text is in force on {day}")
        return in_force[-1]

    def accepted(self, version: str | None, day: date) -> ConsentText:
        """The version a submission on `day` states, or the current one when it states none."""
        if version is None:
            return self.current(day)
        text = next((t for t in self.versions if t.version == version), None)
        if text is None:
            raise UnknownConsentText(f"there is no consent text version {version}")
        if not text.in_force(day):
            raise ConsentTextNotInForce(
                f"consent text version {version} is not in force on {day}; "
                f"the form should show version {self.current(day).version}"
            )
        return text


def parse_consent_text(path: Path) -> ConsentText:
    try:
        with path.open("rb") as file:
            text = ConsentText.model_validate(tomllib.load(file))
    except tomllib.TOMLDecodeError as error:
        raise ConsentTextError(f"{path}: not valid TOML: {error}") from error
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or 'file'}: {e['msg']}"
            for e in error.errors()
        )
        raise ConsentTextError(f"{path}: {problems}") from error
    if path.stem.replace("-", ".") != text.version:
        raise ConsentTextError(f"{path}: version {text.version} does not match the file's name")
    return text


def consent_texts(paths: Iterable[Path]) -> ConsentTexts:
    """The versions read from these files, checked one by one and together."""
    texts = sorted((parse_consent_text(path) for path in paths), key=lambda t: t.effective_from)
    if not texts:
        raise ConsentTextError("no consent text files")
    versions = [text.version for text in texts]
    if len(set(versions)) != len(versions):
        raise ConsentTextError(f"a consent text version is given twice: {versions}")
    return ConsentTexts(tuple(texts))


def load_consent_texts(directory: Path = CONSENT_DIR) -> ConsentTexts:
    """Every `*.toml` consent text in the directory (the packaged ones by default)."""
    return consent_texts(sorted(directory.glob("*.toml")))
