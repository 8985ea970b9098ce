import unicodedata

import pytest

from socialsvc_common.geography import UnknownUnit, load_geography

GEOGRAPHY = load_geography()


def test_every_district_is_listed_once_under_its_own_region() -> None:
    by_region = GEOGRAPHY.districts_by_region()
    listed = [unit for units in by_region.values() for unit in units]
    assert sorted(listed) == sorted(GEOGRAPHY.units())
    assert all(GEOGRAPHY.region_of(u) == r for r, units in by_region.items() for u in units)
    assert list(by_region) == GEOGRAPHY.regions()


def test_a_region_is_found_whatever_its_case_and_composition() -> None:
    region = GEOGRAPHY.region_of("Naxçıvan")
    decomposed = unicodedata.normalize("NFD", region.lower())
    assert decomposed != region
    assert GEOGRAPHY.region(f" {decomposed} ") == region
    with pytest.raises(UnknownUnit):
        GEOGRAPHY.region("Atlantis")
