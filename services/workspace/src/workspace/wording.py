"""The statistics page's figures in words of the page's language: each dimension's values
(directions, groups with "protected", age bands, months, refusal reasons, channels, languages,
offer and appeal results, kinds of life event), the numbers as the language writes them, and a
row's name."""

import re
from collections.abc import Mapping

from workspace.figures import Row, Section, Value
from workspace.i18n import Catalogue

# Where a dimension's values have their words: the first group of the catalogue that has one.
WORDS: dict[str, tuple[str, ...]] = {
    "direction": ("provision_type",),
    "region": ("stats.region",),
    "group": ("stats.group", "target_group"),
    "age_band": ("stats.age_band",),
    "outcome": ("stats.outcome", "outcome"),
    "reason": ("stats.reason",),
    "channel": ("channel",),
    "language": ("stats.language",),
    "kind": ("stats.life_event_kind",),
}
# The "result" of an offer and of an appeal are different words.
RESULTS = {"offers": "stats.offer_result", "appeals": "stats.appeal_result"}
PERCENT = frozenset({"fill_percent"})
DATES = frozenset({"contract_start", "contract_end"})
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class Wording:
    """Words of one page: its catalogue, and the names of providers the figures gave."""

    def __init__(self, t: Catalogue, provider_names: Mapping[str, str]) -> None:
        self.t = t
        self.provider_names = provider_names

    def key(self, section: str, dimension: str, value: str | None) -> str:
        if value is None or value == "":
            return self.t("stats.unknown")
        if dimension == "month":
            return self.month(value)
        if dimension == "provider":
            return self.provider_names.get(value, value)
        groups = (RESULTS[section],) if dimension == "result" and section in RESULTS else ()
        for group in groups or WORDS.get(dimension, ()):
            if f"{group}.{value}" in self.t.words:
                return self.t.words[f"{group}.{value}"]
        return value

    def row(self, section: Section, row: Row) -> str:
        """A row's name: its keys in words, joined (a channel and a language)."""
        if section.id == "served_by_provider" and row.keys.get("name"):
            return str(row.keys["name"])
        shown = section.dimensions or list(row.keys)
        return " · ".join(self.key(section.id, d, row.keys.get(d)) for d in shown)

    def month(self, value: str) -> str:
        found = _MONTH.match(value)
        if not found or not 1 <= int(found[2]) <= 12:
            return value
        name = self.t(f"stats.month.{int(found[2])}")
        return self.t("stats.month_year", month=name, year=found[1])

    def number(self, value: Value, measure: str = "") -> str:
        """A figure as the page's language writes it (1 290 or 1,290; 4,5 or 4.5)."""
        if value is None:
            return self.t("common.none")
        if isinstance(value, str):
            day = _DAY.match(value) if measure in DATES else None
            return f"{day[3]}.{day[2]}.{day[1]}" if day else value
        english = self.t.language == "en"
        if isinstance(value, float) and not value.is_integer():
            text = f"{value:,.1f}"
        else:
            text = f"{int(value):,}"
        if not english:
            text = text.replace(",", "\u202f").replace(".", ",")
        return f"{text} %" if measure in PERCENT else text


def provider_names(sections: list[Section]) -> dict[str, str]:
    """Providers' names where the figures give them (NGO projects name theirs)."""
    names = {}
    for section in sections:
        for row in section.rows:
            provider, name = row.keys.get("provider"), row.keys.get("name")
            if provider and name:
                names[provider] = name
    return names
