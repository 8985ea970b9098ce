"""The ministry demo's registry: the articles' totals, real districts, the service's own parser."""

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from assignment.providers import parse_csv, parse_one
from assignment.registry import HomeCareTeam, NgoProject
from deploy.demo.ministry.keys import demo_provider_ids, issue_provider_keys, shipped_registry
from deploy.demo.ministry.places import apportion, load_country, slug
from deploy.demo.ministry.registry import Plan, Scale, plan_registry
from socialsvc_common.apikeys import KeyStore, Role

TODAY = date(2026, 12, 6)
COUNTRY = load_country()
SHIPPED = shipped_registry()


def after(existing: list[dict[str, Any]], plan: Plan) -> list[dict[str, Any]]:
    """The registry once the plan is applied, as GET /providers would list it."""
    by_id = {str(e["id"]): e for e in existing}
    for entry in (*plan.teams, *plan.imported):
        provider = parse_one(entry, COUNTRY.geography)
        by_id[provider.id] = dict(entry) | {"capacity": provider.capacity}
    return list(by_id.values())


@pytest.fixture(scope="module")
def plan() -> Plan:
    return plan_registry(SHIPPED, COUNTRY, Scale(), 2019, TODAY)


def test_the_registry_reaches_the_articles_totals(plan: Plan) -> None:
    registry = after(SHIPPED, plan)
    projects = [e for e in registry if e["provision_type"] == "ngo_project"]
    places = Counter[str]()
    for entry in registry:
        places[entry["provision_type"]] += int(entry["capacity"])
    assert len(projects) == 195
    assert len({e["organisation"] for e in projects}) == 66
    assert places == {"ngo_project": 10_000, "residential": 1_000, "home_care": 15_600}


def test_the_csv_is_read_by_the_services_own_parser_with_only_real_districts(plan: Plan) -> None:
    imported = parse_csv(plan.csv(), COUNTRY.geography)
    assert len(imported) == len(plan.imported) == 167 + 1
    units = set(COUNTRY.units())
    for provider in imported:
        assert set(provider.districts) <= units
    new_projects = [p for p in imported if isinstance(p, NgoProject)]
    assert {g for p in new_projects for g in p.target_groups} >= {
        "child_with_disability",
        "low_income_family",
        "domestic_violence_victim",
        "trafficking_victim",
        "released_from_prison",
        "institution_graduate",
    }
    assert all(p.contract_start <= TODAY <= p.contract_end for p in new_projects)
    # Projects serve their own economic region, where matching looks for them.
    for project in new_projects:
        assert len({COUNTRY.geography.region_of(d) for d in project.districts}) == 1


def test_every_unit_has_a_home_care_team_and_the_shipped_ones_are_changed_not_doubled(
    plan: Plan,
) -> None:
    teams = [parse_one(t, COUNTRY.geography) for t in plan.teams]
    assert all(isinstance(t, HomeCareTeam) for t in teams)
    assert sorted(t.districts[0] for t in teams) == sorted(COUNTRY.units())
    shipped = {e["id"] for e in SHIPPED if e["provision_type"] == "home_care"}
    assert {t.id for t in teams} == shipped
    by_district = {t.districts[0]: t.capacity for t in teams}
    # Caseloads follow the population: Baku's Xətai has a far larger team than the mountains.
    assert by_district["Xətai"] > 10 * by_district["Xızı"]
    assert min(by_district.values()) >= 5


def test_the_same_seed_gives_the_same_plan_and_another_seed_another() -> None:
    first = plan_registry(SHIPPED, COUNTRY, Scale(), 5, TODAY)
    assert plan_registry(SHIPPED, COUNTRY, Scale(), 5, TODAY) == first
    assert plan_registry(SHIPPED, COUNTRY, Scale(), 6, TODAY).csv() != first.csv()


def test_a_registry_already_at_scale_gets_nothing_new(plan: Plan) -> None:
    again = plan_registry(after(SHIPPED, plan), COUNTRY, Scale(), 2019, TODAY)
    assert again.imported == []
    assert again.teams == plan.teams


def test_a_small_scale_adds_only_what_is_missing() -> None:
    small = Scale(organisations=30, projects=35, ngo_places=1_500, home_care_places=3_000)
    plan = plan_registry(SHIPPED, COUNTRY, small, 1, TODAY)
    projects = [e for e in after(SHIPPED, plan) if e["provision_type"] == "ngo_project"]
    assert len(projects) == 35
    assert len({e["organisation"] for e in projects}) == 30
    assert sum(int(e["capacity"]) for e in projects) == 1_500
    assert sum(t["caseload_limit"] for t in plan.teams) == 3_000


def test_apportion_adds_up_exactly_and_keeps_the_minimum() -> None:
    # 960 beyond the minimum in proportion 1:2:3:0.5 is 147.7, 295.4, 443.1 and 73.8: the two
    # units rounding leaves go to the largest remainders.
    assert apportion(1_000, [1, 2, 3, 0.5], minimum=10) == [158, 305, 453, 84]
    assert sum(apportion(10_000, [0.42, 0.26, 0.14, 0.07, 0.05, 0.04, 0.02], 1)) == 10_000
    with pytest.raises(ValueError, match="cannot share"):
        apportion(5, [1, 1], minimum=3)


def test_a_population_file_missing_a_unit_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "population.toml"
    source.write_text('[population]\n"Xətai" = 300\n"Atlantis" = 5\n', encoding="utf-8")
    with pytest.raises(ValueError, match="Atlantis") as refused:
        load_country(source)
    assert "Şəki" in str(refused.value)


def test_ids_spell_units_as_the_shipped_registry_does() -> None:
    assert slug("Şəmkir") == "semkir"
    assert slug("İsmayıllı") == "ismayilli"
    assert {f"hc-{slug(u)}" for u in COUNTRY.units()} == {
        e["id"] for e in SHIPPED if e["provision_type"] == "home_care"
    }


def test_provider_keys_are_issued_once_for_every_provider_of_the_demo(tmp_path: Path) -> None:
    ids = demo_provider_ids(COUNTRY, 2019, TODAY)
    assert len(ids) == 86 + 15 + 195
    store, keys = tmp_path / "store.jsonl", tmp_path / "providers"
    assert issue_provider_keys(store, keys, ids[:3]) == 3
    assert issue_provider_keys(store, keys, ids[:4]) == 1
    key = (keys / f"{ids[0]}.key").read_text().strip()
    caller = KeyStore.load(store).identify(key)
    assert caller is not None
    assert (caller.role, caller.provider) == (Role.PROVIDER, ids[0])
    assert (keys / f"{ids[0]}.key").stat().st_mode & 0o077 == 0
