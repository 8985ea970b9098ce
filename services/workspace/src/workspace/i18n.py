"""The workspace's words in Azerbaijani (the default), Russian and English: one catalogue per
language (`locales/<language>.toml`), every label of every page. Tables nest; a key is its dotted
path (`queues.needs_information`). A test checks every key exists in all three."""

import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

LOCALES = Path(__file__).with_name("locales")
LANGUAGES = ("az", "ru", "en")
DEFAULT_LANGUAGE = "az"


class Catalogue:
    """The words of one language."""

    def __init__(self, language: str, words: Mapping[str, str]) -> None:
        self.language = language
        self.words = MappingProxyType(dict(words))

    def __call__(self, key: str, **values: Any) -> str:
        """The text of `key` with its placeholders filled; the key itself if it has none."""
        text = self.words.get(key, key)
        return text.format_map(values) if values else text

    def word(self, group: str, value: object) -> str:
        """A value of the services in words (`status`, `needs_information`); the value itself
        when the catalogue has no word for it (a status added later still shows)."""
        if value is None or value == "":
            return self.words["common.none"]
        return self.words.get(f"{group}.{value}", str(value))

    def choices(self, group: str) -> list[tuple[str, str]]:
        """Every (value, word) of a group, in the catalogue's order: the options of a select."""
        prefix = group + "."
        return [(k[len(prefix) :], v) for k, v in self.words.items() if k.startswith(prefix)]


def flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    words: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, Mapping):
            words |= flatten(value, f"{prefix}{key}.")
        else:
            words[prefix + key] = str(value)
    return words


@cache
def catalogue(language: str, directory: Path = LOCALES) -> Catalogue:
    path = directory / f"{language}.toml"
    return Catalogue(language, flatten(tomllib.loads(path.read_text(encoding="utf-8"))))


def language_of(wanted: str | None) -> str:
    return wanted if wanted in LANGUAGES else DEFAULT_LANGUAGE
