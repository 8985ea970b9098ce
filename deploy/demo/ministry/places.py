"""Where the demo's people live and its providers work: the country's units weighted by
population (population.toml), and the arithmetic that shares a total out by weight."""

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from socialsvc_common.geography import Geography, load_geography

POPULATION = Path(__file__).parent / "population.toml"
# Azerbaijani letters as the registry's ids spell them (hc-xetai, inst-ahillar-seki).
_LATIN = str.maketrans("əşçığöüƏŞÇİĞÖÜ", "escigouescigou")


def slug(name: str) -> str:
    """A unit's name as a registry id part: Şəmkir -> semkir, Nərimanov -> nerimanov."""
    return "-".join(name.translate(_LATIN).lower().split())


@dataclass(frozen=True)
class Country:
    """The geography with a population weight for every unit (no unit left out)."""

    geography: Geography
    population: Mapping[str, int]

    def units(self) -> list[str]:
        return self.geography.units()

    def regions(self) -> list[str]:
        return self.geography.regions()

    def units_of(self, region: str) -> list[str]:
        return [u for u in self.units() if self.geography.region_of(u) == region]

    def weight_of_region(self, region: str) -> int:
        return sum(self.population[u] for u in self.units_of(region))


def load_country(path: Path = POPULATION, geography: Geography | None = None) -> Country:
    """The country of the demo; ValueError when the file misses a unit or names an unknown one."""
    geography = geography or load_geography()
    table = tomllib.loads(path.read_text(encoding="utf-8")).get("population", {})
    units = set(geography.units())
    unknown, missing = sorted(set(table) - units), sorted(units - set(table))
    if unknown or missing:
        raise ValueError(f"{path}: unknown units {unknown}, units without a figure {missing}")
    bad = sorted(u for u, v in table.items() if not isinstance(v, int) or v <= 0)
    if bad:
        raise ValueError(f"{path}: populations must be positive whole numbers: {bad}")
    return Country(geography, dict(table))


def apportion(total: int, weights: Sequence[float], minimum: int = 0) -> list[int]:
    """`total` shared out in proportion to `weights`, each share at least `minimum`, the shares
    adding up to `total` exactly (largest remainders get the units rounding left over)."""
    if total < minimum * len(weights) or not weights or sum(weights) <= 0:
        raise ValueError(f"cannot share {total} among {len(weights)} with {minimum} each")
    rest = total - minimum * len(weights)
    exact = [rest * w / sum(weights) for w in weights]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (shares[i] - exact[i], i))
    for i in by_remainder[: rest - sum(shares)]:
        shares[i] += 1
    return [minimum + s for s in shares]
