"""The funnel of proactive services on a real database (PostgreSQL, and SQLite as `make run` uses
it): pre-screens of life events and their offers' statuses fed through the service's own consumer
with the placements of the applications accepted offers made, shuffled and twice; then the
sections' counts, the latest status of an offer whatever order its events come in, every filter,
and the small counts withheld under the platform's k=5."""

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import select

from ministry_statistics.sql import rows_of
from ministry_statistics.tables import PROACTIVE_OFFERS
from socialsvc_common.apikeys import Role, issue
from socialsvc_common.contract.payloads import (
    ConsentPurpose,
    LifeEventKind,
    OfferStatus,
    PlacementStatus,
    Prescreen,
    ProvisionType,
    TargetGroup,
)
from socialsvc_common.service import Runtime
from tests.integration.statistics_rig import (
    T0,
    LifeEvent,
    Person,
    figures,
    raw_and_safe,
    record,
    section,
    shuffled_twice,
    values,
)

pytestmark = pytest.mark.integration
HOME, HOMES, NGO = ProvisionType.HOME_CARE, ProvisionType.RESIDENTIAL, ProvisionType.NGO_PROJECT
ALONE, DISABLED, OUT = (
    LifeEventKind.TURNED_65_LIVING_ALONE,
    LifeEventKind.DISABILITY_DETERMINED,
    LifeEventKind.RELEASED_FROM_PENITENTIARY,
)
LIKELY, UNLIKELY = Prescreen.LIKELY, Prescreen.UNLIKELY
OFFERED, ACCEPTED = OfferStatus.OFFERED, OfferStatus.ACCEPTED
DECLINED, LAPSED = OfferStatus.DECLINED, OfferStatus.LAPSED
STEPS = ["life_events", "likely", "offered", "accepted", "declined", "lapsed", "placed"]
KINDS = [kind.value for kind in LifeEventKind]


def funnel(*counts: int | None) -> dict[str, int | None]:
    return dict(zip(STEPS, counts, strict=True))


def stories() -> tuple[list[LifeEvent], list[Person]]:
    """Six people turning 65 alone in Babək (placed; accepted with a place only offered; declined;
    lapsed; accepted, refused and offered again; unlikely), two released in Culfa (placed in an
    NGO project; accepted and served, statistics consent withdrawn), one disability in Gəncə still
    open, and one screened in December 2025 (accepted and placed)."""
    day = timedelta(days=1)
    elderly = ([TargetGroup.ELDERLY_ALONE], [HOME, HOMES])
    released = ([TargetGroup.RELEASED_FROM_PRISON], [NGO])
    disabled = ([TargetGroup.DISABILITY], [HOME])

    def offered(kind: LifeEventKind, district: str, found: Any) -> LifeEvent:
        event = LifeEvent(kind, district).screened(LIKELY, *found)
        return event.offer(OFFERED, after=timedelta(minutes=5))

    placed, waiting, reopened = Person("Babək"), Person("Babək"), Person("Babək")
    placed.served("hc-babek", HOME)
    waiting.placed(uuid4(), "hc-babek", HOME)
    in_project, withdrawn = Person("Culfa"), Person("Culfa")
    project = uuid4()
    in_project.placed(project, "ngo-a-1", NGO)
    in_project.moved_on(project, "ngo-a-1", PlacementStatus.ACCEPTED, after=timedelta(hours=2))
    withdrawn.served("ngo-a-1", NGO).withdrew(ConsentPurpose.STATISTICS)
    earlier = Person("Gəncə", at=T0 - 90 * day)
    earlier.served("hc-ganja", HOME)
    life_events = [
        offered(ALONE, "Babək", elderly).offer(ACCEPTED, after=day, application=placed),
        offered(ALONE, "Babək", elderly).offer(ACCEPTED, after=day, application=waiting),
        offered(ALONE, "Babək", elderly).offer(DECLINED, after=day),
        offered(ALONE, "Babək", elderly).offer(LAPSED, after=31 * day),
        offered(ALONE, "Babək", elderly)
        .offer(ACCEPTED, after=day, application=reopened)
        .offer(OFFERED, after=3 * day),
        LifeEvent(ALONE, "Babək").screened(UNLIKELY),
        offered(OUT, "Culfa", released).offer(ACCEPTED, after=day, application=in_project),
        offered(OUT, "Culfa", released).offer(ACCEPTED, after=day, application=withdrawn),
        offered(DISABLED, "Gəncə", disabled),
    ]
    december = LifeEvent(DISABLED, "Gəncə", at=earlier.at).screened(LIKELY, *disabled)
    december.offer(OFFERED, after=timedelta(minutes=5))
    life_events.append(december.offer(ACCEPTED, after=day, application=earlier))
    return life_events, [placed, waiting, reopened, in_project, withdrawn, earlier]


@pytest.fixture(params=["postgresql", "sqlite"])
async def apps(
    request: pytest.FixtureRequest, fresh_postgres: str, bootstrap: str, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, Runtime]]:
    """Clients of the API with k=1 and with the platform's k=5 over one fed read model, and the
    runtime that fed it."""
    url = (
        fresh_postgres if request.param == "postgresql" else f"sqlite+aiosqlite:///{tmp_path}/s.db"
    )
    keys = tmp_path / "keys.jsonl"
    key = issue(keys, "ministry", Role.OPERATOR)
    async with raw_and_safe(url, bootstrap, tmp_path, keys, key) as (raw, safe, runtime):
        life_events, people = stories()
        told = [e for life_event in life_events for e in life_event.events]
        told += [e for person in people for e in person.events]
        await shuffled_twice(runtime, told)
        yield raw, safe, runtime


def rows(answer: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    """A funnel section's values by its one key."""
    return {next(iter(r["keys"].values())): r["values"] for r in section(answer, name)["rows"]}


def total(answer: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(section(answer, name)["total"]["values"])


async def test_the_funnel_counts_each_step_by_kind_and_district(
    apps: tuple[httpx.AsyncClient, httpx.AsyncClient, Runtime],
) -> None:
    raw, _, _ = apps
    answer = await figures(raw)
    kinds = section(answer, "proactive_by_kind")
    assert (kinds["dimensions"], kinds["measures"]) == (["kind"], STEPS)
    # Every kind, one with no life event too; the reopened offer is offered and nothing more,
    # the withdrawn application neither accepted nor placed, December 2025 out of the period.
    assert rows(answer, "proactive_by_kind") == {
        "turned_65_living_alone": funnel(6, 5, 5, 2, 1, 1, 1),
        "left_children_institution": funnel(0, 0, 0, 0, 0, 0, 0),
        "released_from_penitentiary": funnel(2, 2, 2, 1, 0, 0, 1),
        "disability_determined": funnel(1, 1, 1, 0, 0, 0, 0),
    }
    assert [r["keys"]["kind"] for r in kinds["rows"]] == KINDS
    assert rows(answer, "proactive_by_district") == {
        "Babək": funnel(6, 5, 5, 2, 1, 1, 1),
        "Culfa": funnel(2, 2, 2, 1, 0, 0, 1),
        "Gəncə": funnel(1, 1, 1, 0, 0, 0, 0),
    }
    expected = funnel(9, 8, 8, 3, 1, 1, 2)
    assert total(answer, "proactive_by_kind") == total(answer, "proactive_by_district") == expected
    december = await figures(raw, **{"from": "2025-12", "to": "2025-12"})
    assert rows(december, "proactive_by_district") == {"Gəncə": funnel(1, 1, 1, 1, 0, 0, 1)}
    dimensions = (await raw.get("/statistics/dimensions")).json()
    assert "2025-12" in dimensions["months"]


async def test_every_filter_narrows_the_funnel_by_the_life_event(
    apps: tuple[httpx.AsyncClient, httpx.AsyncClient, Runtime],
) -> None:
    raw, _, _ = apps
    region = await figures(raw, region="Naxçıvan")
    assert set(rows(region, "proactive_by_district")) == {"Babək", "Culfa"}
    assert total(region, "proactive_by_kind") == funnel(8, 7, 7, 3, 1, 1, 2)
    culfa = await figures(raw, district="Culfa")
    assert total(culfa, "proactive_by_kind") == funnel(2, 2, 2, 1, 0, 0, 1)
    # The groups the pre-screen found: the unlikely one found none.
    alone = await figures(raw, group="elderly_alone")
    assert total(alone, "proactive_by_kind") == funnel(5, 5, 5, 2, 1, 1, 1)
    prison = await figures(raw, group="released_from_prison")
    assert rows(prison, "proactive_by_district") == {"Culfa": funnel(2, 2, 2, 1, 0, 0, 1)}
    nobody = await figures(raw, group="elderly")
    assert total(nobody, "proactive_by_kind") == funnel(0, 0, 0, 0, 0, 0, 0)
    # A direction the pre-screen named; placed, in that direction.
    home = await figures(raw, direction="home_care")
    assert total(home, "proactive_by_kind") == funnel(6, 6, 6, 2, 1, 1, 1)
    homes = await figures(raw, direction="residential")
    assert total(homes, "proactive_by_kind") == funnel(5, 5, 5, 2, 1, 1, 0)
    projects = await figures(raw, direction="ngo_project")
    assert rows(projects, "proactive_by_district") == {"Culfa": funnel(2, 2, 2, 1, 0, 0, 1)}


async def test_small_steps_of_the_funnel_are_withheld(
    apps: tuple[httpx.AsyncClient, httpx.AsyncClient, Runtime],
) -> None:
    _, safe, _ = apps
    answer = await figures(safe)
    assert answer["policy"]["min_cell"] == 5
    by_kind = {r["keys"]["kind"]: r for r in section(answer, "proactive_by_kind")["rows"]}
    small = ["accepted", "declined", "lapsed", "placed"]
    # Five of six likely would tell that one person was not: the steps after life events are
    # withheld with it (each differs from the six by one).
    assert by_kind["turned_65_living_alone"] == {
        "keys": {"kind": "turned_65_living_alone"},
        "values": funnel(6, None, None, None, None, None, None),
        "suppressed": [*small, "likely", "offered"],
    }
    assert by_kind["left_children_institution"]["values"] == funnel(0, 0, 0, 0, 0, 0, 0)
    assert by_kind["released_from_penitentiary"]["values"] == funnel(
        None, None, None, None, 0, 0, None
    )
    assert section(answer, "proactive_by_kind")["total"] == {
        "values": funnel(9, None, None, None, None, None, None),
        "suppressed": [*small, "likely", "offered"],
    }
    for name in ("proactive_by_kind", "proactive_by_district"):
        shown = [v for r in section(answer, name)["rows"] for v in r["values"].values()]
        assert not [v for v in shown if v is not None and 0 < v < 5], name
    # Babək's six life events show; Culfa's two and Gəncə's one do not.
    districts = rows(answer, "proactive_by_district")
    assert (districts["Babək"]["life_events"], districts["Culfa"]["life_events"]) == (6, None)
    assert districts["Gəncə"]["life_events"] is None


async def test_an_offers_latest_status_wins_whichever_order_its_events_come_in(
    apps: tuple[httpx.AsyncClient, httpx.AsyncClient, Runtime],
) -> None:
    """Two more offers in Şəki, each accepted, refused and offered again, then declined: one told
    in order, one backwards, an event a batch, so the stored row decides, not the batch."""
    raw, _, runtime = apps
    forwards, backwards = (
        LifeEvent(ALONE, "Şəki")
        .screened(LIKELY)
        .offer(OFFERED, after=timedelta(minutes=5))
        .offer(ACCEPTED, after=timedelta(days=1), application=Person("Şəki"))
        .offer(OFFERED, after=timedelta(days=2))
        .offer(DECLINED, after=timedelta(days=3))
        for _ in range(2)
    )
    told = [*forwards.events, *reversed(backwards.events)]
    for offset, event in enumerate(told, start=1000):
        await runtime.consumer.process_batch([record(event, offset)])
    assert values(await figures(raw, district="Şəki"), "proactive_by_district", "declined") == {
        "Şəki": 2
    }
    o = PROACTIVE_OFFERS.c
    async with runtime.sessions() as session:
        stored = await rows_of(
            session,
            select(o.ref, o.status, o.offered_at, o.application_ref).where(
                o.ref.in_([forwards.ref, backwards.ref])
            ),
        )
    # The first offer's time stays, whichever came last.
    assert {tuple(row[1:]) for row in stored} == {("declined", T0 + timedelta(minutes=5), None)}
    accepted_last = LifeEvent(ALONE, "Şəki").screened(LIKELY)
    accepted_last.offer(OFFERED, after=timedelta(minutes=5))
    accepted_last.offer(ACCEPTED, after=timedelta(days=1), application=Person("Şəki"))
    for offset, event in enumerate(reversed(accepted_last.events), start=2000):
        await runtime.consumer.process_batch([record(event, offset)])
    shown = rows(await figures(raw, district="Şəki"), "proactive_by_district")
    assert shown == {"Şəki": funnel(3, 3, 3, 1, 2, 0, 0)}
