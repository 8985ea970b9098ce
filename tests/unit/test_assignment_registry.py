"""Geography and provider registry of the assignment service: the shipped data and its checks."""

import unicodedata
from pathlib import Path
from typing import Any

import pytest

from assignment.registry import (
    HomeCareTeam,
    Institution,
    NgoProject,
    Problem,
    RegistryError,
    load_providers,
    parse_providers,
)
from socialsvc_common.contract.payloads import ProvisionType, TargetGroup
from socialsvc_common.geography import Geography, Proximity, UnknownUnit, load_geography

BAKU_DISTRICTS = {
    "Binəqədi", "Qaradağ", "Xətai", "Xəzər", "Nərimanov", "Nəsimi",
    "Nizami", "Sabunçu", "Səbail", "Suraxanı", "Yasamal", "Pirallahı",
}  # fmt: skip


@pytest.fixture(scope="module")
def geography() -> Geography:
    return load_geography()


# --- geography ---------------------------------------------------------------------------------


def test_geography_has_the_decree_units_and_baku_city_districts(geography: Geography) -> None:
    assert len(geography.regions()) == 14
    assert len(geography.units()) == 74 + 12
    assert {u for u in geography.units() if geography.region_of(u) == "Bakı"} == BAKU_DISTRICTS | {
        "Bakı"
    }
    assert geography.region_of("Qobustan") == "Dağlıq Şirvan"
    assert geography.region_of("Naxçıvan") == "Naxçıvan"


def test_names_are_case_sensitive_but_tolerate_whitespace_and_decomposed_letters(
    geography: Geography,
) -> None:
    assert geography.region_of("  Xətai\t") == "Bakı"
    assert geography.canonical(" Şəki ") == "Şəki"
    assert geography.is_known(unicodedata.normalize("NFD", "Şəki"))
    assert not geography.is_known("xətai")
    assert not geography.is_known("Xetai")


def test_unknown_unit_is_a_typed_error_naming_it(geography: Geography) -> None:
    with pytest.raises(UnknownUnit, match="Atlantida") as caught:
        geography.region_of("Atlantida")
    assert caught.value.unit == "Atlantida"


def test_proximity_ranks_district_region_country(geography: Geography) -> None:
    assert geography.proximity("Xətai", " Xətai") is Proximity.DISTRICT
    assert geography.proximity("Xətai", "Bakı") is Proximity.REGION
    assert geography.proximity("Xətai", "Gəncə") is Proximity.COUNTRY


def test_geography_is_loaded_once() -> None:
    assert load_geography() is load_geography()


# --- the shipped demo registry -----------------------------------------------------------------


def test_every_unit_has_exactly_one_home_care_team(geography: Geography) -> None:
    teams = [p for p in load_providers() if isinstance(p, HomeCareTeam)]
    assert sorted(t.district for t in teams) == sorted(geography.units())
    assert all(20 <= t.caseload_limit <= 60 for t in teams)


def test_every_provider_district_is_known_and_ids_are_unique(geography: Geography) -> None:
    providers = load_providers()
    assert all(geography.is_known(d) for p in providers for d in p.districts)
    assert len({p.id for p in providers}) == len(providers)
    prefixes = {
        ProvisionType.HOME_CARE: "hc-",
        ProvisionType.RESIDENTIAL: "inst-",
        ProvisionType.NGO_PROJECT: "ngo-",
    }
    assert all(p.id.startswith(prefixes[p.provision_type]) for p in providers)


def test_registry_has_institutions_and_ngo_projects_in_the_expected_numbers() -> None:
    providers = load_providers()
    institutions = [p for p in providers if isinstance(p, Institution)]
    projects = [p for p in providers if isinstance(p, NgoProject)]
    assert 10 <= len(institutions) <= 15
    assert 20 <= len(projects) <= 30
    centre = next(p for p in institutions if p.district == "Qobustan")
    assert centre.target_groups == (TargetGroup.RELEASED_FROM_PRISON,)


# --- rejected input ----------------------------------------------------------------------------


def _home_care(**changes: Any) -> dict[str, Any]:
    entry = {"id": "hc-test", "name": "Sınaq qrupu", "district": "Xətai", "caseload_limit": 20}
    return {**entry, **changes}


def _ngo(**changes: Any) -> dict[str, Any]:
    entry = {
        "id": "ngo-test",
        "name": "Sınaq layihəsi",
        "organisation": "Sınaq İctimai Birliyi",
        "target_groups": ["elderly"],
        "districts": ["Quba", "Qusar"],
        "capacity": 10,
        "contract_start": "2026-01-01",
        "contract_end": "2026-12-31",
    }
    return {**entry, **changes}


def _problems(document: dict[str, Any], geography: Geography) -> list[Problem]:
    with pytest.raises(RegistryError) as caught:
        parse_providers(document, geography)
    message = str(caught.value)
    assert all(p.provider_id in message and p.field in message for p in caught.value.problems)
    return list(caught.value.problems)


@pytest.mark.parametrize(
    ("document", "provider_id", "field", "says"),
    [
        ({"home_care": [_home_care(district="Atlantida")]}, "hc-test", "district", "Atlantida"),
        ({"home_care": [_home_care(caseload_limit=0)]}, "hc-test", "caseload_limit", "greater"),
        ({"home_care": [_home_care(caseload=5)]}, "hc-test", "caseload", "Extra inputs"),
        ({"ngo_project": [_ngo(capacity=0)]}, "ngo-test", "capacity", "greater"),
        ({"ngo_project": [_ngo(districts=["Quba", "Mars"])]}, "ngo-test", "districts.1", "Mars"),
        ({"ngo_project": [_ngo(target_groups=["pirates"])]}, "ngo-test", "target_groups.0", ""),
        (
            {"ngo_project": [_ngo(contract_end="2025-12-31")]},
            "ngo-test",
            "contract_end",
            "before it starts",
        ),
        (
            {"residential": [{"id": "inst-test", "name": "Ev", "district": "Quba", "places": 0}]},
            "inst-test",
            "places",
            "greater",
        ),
        ({"home_care": [_home_care(id=None)]}, "home_care[0]", "id", ""),
        ({"clinics": []}, "-", "clinics", "unknown section"),
        ({"home_care": _home_care()}, "-", "home_care", "not an array of tables"),
    ],
)
def test_registry_rejects_bad_input_naming_provider_and_field(
    geography: Geography, document: dict[str, Any], provider_id: str, field: str, says: str
) -> None:
    problems = _problems(document, geography)
    assert any(
        p.provider_id == provider_id and p.field == field and says in p.message for p in problems
    ), problems


def test_registry_reports_every_problem_and_duplicate_ids(geography: Geography) -> None:
    document = {
        "home_care": [_home_care(), _home_care(), _home_care(id="hc-other", caseload_limit=-1)],
        "ngo_project": [_ngo(districts=[])],
    }
    problems = _problems(document, geography)
    assert {(p.provider_id, p.field) for p in problems} == {
        ("hc-test", "id"),
        ("hc-other", "caseload_limit"),
        ("ngo-test", "districts"),
    }


def test_load_providers_names_the_file_and_accepts_a_valid_one(
    tmp_path: Path, geography: Geography
) -> None:
    path = tmp_path / "providers.toml"
    path.write_text('[[home_care]]\nid = "hc-a"\nname = "A"\ndistrict = " Quba "\n', "utf-8")
    with pytest.raises(RegistryError, match=r"providers\.toml[\s\S]*'hc-a'.*caseload_limit"):
        load_providers(path, geography)
    path.write_text(path.read_text("utf-8") + "caseload_limit = 25\n", "utf-8")
    [team] = load_providers(path, geography)
    assert team == HomeCareTeam(id="hc-a", name="A", district="Quba", caseload_limit=25)


def test_load_providers_rejects_a_file_that_is_not_toml(tmp_path: Path) -> None:
    path = tmp_path / "providers.toml"
    path.write_text("[[home_care]\n", "utf-8")
    with pytest.raises(RegistryError, match="not valid TOML"):
        load_providers(path)
