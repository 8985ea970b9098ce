"""Where people and providers are: cities and districts grouped into the 14 economic regions.

The geography is data (data/*.csv), so a new district is a row, not a code change.
"""

import csv
import functools
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from types import MappingProxyType

DATA = Path(__file__).parent / "data"
# The decree's list as published (kept byte-identical to the shared copy), then Baku's city
# districts, which the decree does not list but home-care teams are organised by.
SOURCES = (DATA / "economic-regions.csv", DATA / "baku-city-districts.csv")
UNIT_KINDS = frozenset({"city", "district", "city_district"})


class UnknownUnit(LookupError):
    """A district or city name that the geography does not know."""

    def __init__(self, unit: str) -> None:
        self.unit = unit
        super().__init__(f"unknown district or city: {unit!r} (names use Azerbaijani spelling)")


class Proximity(IntEnum):
    """How far a provider is from a person; lower is nearer, so it sorts as a preference."""

    DISTRICT = 0
    REGION = 1
    COUNTRY = 2


@dataclass(frozen=True)
class Unit:
    name: str
    kind: str
    region: str
    region_en: str


def normalise(unit: str) -> str:
    """The lookup key of a name: case is kept (it is part of the spelling), but surrounding
    whitespace is dropped and letters are composed (NFC), since a browser may send 'ş' as
    's' plus a combining cedilla."""
    return unicodedata.normalize("NFC", unit.strip())


class Geography:
    def __init__(self, units: Iterable[Unit]) -> None:
        by_name: dict[str, Unit] = {}
        for unit in units:
            if unit.kind not in UNIT_KINDS:
                raise ValueError(f"unit {unit.name!r} has unknown kind {unit.kind!r}")
            if unit.name in by_name:
                raise ValueError(f"unit {unit.name!r} is listed twice")
            by_name[unit.name] = unit
        self._units = MappingProxyType(by_name)

    def unit(self, name: str) -> Unit:
        try:
            return self._units[normalise(name)]
        except KeyError:
            raise UnknownUnit(name) from None

    def canonical(self, name: str) -> str:
        """The name as the geography spells it; raises UnknownUnit."""
        return self.unit(name).name

    def region_of(self, unit: str) -> str:
        return self.unit(unit).region

    def units(self) -> list[str]:
        return list(self._units)

    def regions(self) -> list[str]:
        return list(self.districts_by_region())

    def districts_by_region(self) -> dict[str, list[str]]:
        """Each economic region with its districts and cities, in the geography's order."""
        found: dict[str, list[str]] = {}
        for unit in self._units.values():
            found.setdefault(unit.region, []).append(unit.name)
        return found

    def region(self, name: str) -> str:
        """The region as the geography spells it, whatever the case or composition of `name`;
        raises UnknownUnit."""
        wanted = normalise(name).casefold()
        for region in self.districts_by_region():
            if region.casefold() == wanted:
                return region
        raise UnknownUnit(name)

    def is_known(self, unit: str) -> bool:
        return normalise(unit) in self._units

    def proximity(self, here: str, there: str) -> Proximity:
        """How far `there` is from `here`; both must be known."""
        a, b = self.unit(here), self.unit(there)
        if a.name == b.name:
            return Proximity.DISTRICT
        if a.region == b.region:
            return Proximity.REGION
        return Proximity.COUNTRY


def read_units(path: Path) -> list[Unit]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            Unit(
                name=normalise(row["unit"]),
                kind=row["unit_kind"].strip(),
                region=normalise(row["economic_region"]),
                region_en=row["economic_region_en"].strip(),
            )
            for row in csv.DictReader(handle)
        ]


@functools.cache
def load_geography() -> Geography:
    """The country's geography from the files shipped with the service, read once."""
    return Geography(unit for path in SOURCES for unit in read_units(path))
