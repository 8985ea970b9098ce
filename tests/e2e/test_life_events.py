"""Life events from the state registries, pre-screened by the eligibility process on the real
broker and database (issue 21): each registry's events on its own topic, each record screened
once however often it is sent, and what a registry could not have sent dead-lettered with its
reason while the rest goes on."""

import time
import uuid
from datetime import date
from typing import Any

import pytest
from aiokafka import TopicPartition

from socialsvc_common.consumer import read_dead_letter
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import new_event
from socialsvc_common.contract.payloads import (
    LifeEventKind,
    LifeEventRecorded,
    PrescreenMade,
    Registry,
)
from tests.harness import records_since, until

from .conftest import Platform, wait_committed
from .test_consent import publish

pytestmark = pytest.mark.integration

Record = tuple[str, bytes, bytes, list[Any]]


def life_event(
    registry: Registry, kind: LifeEventKind, born: str, reference: str, **facts: Any
) -> LifeEventRecorded:
    return LifeEventRecorded.model_validate(
        {
            "registry": registry,
            "reference": reference,
            "kind": kind,
            "occurred_on": date(2026, 12, 1),
            "person": {
                "fin": "5XK2L9P",
                "first_name": "Rəşid",
                "last_name": "Quliyev",
                "birth_date": born,
                "mobile_phone": "+994552223344",
                "district": "Nəsimi",
                "language": "ru",
            },
            **facts,
        }
    )


def as_registry(
    payload: LifeEventRecorded, topic: topics.Topic, life_event_id: uuid.UUID | None = None
) -> tuple[uuid.UUID, Record]:
    """What the registry publishes: a new event id, under the life event's own subject."""
    subject = life_event_id or uuid.uuid4()
    event = new_event(
        topic, payload, producer=f"registry/{payload.registry}", application_id=subject
    )
    return subject, (topic.name, event.key, event.value(), event.envelope.to_headers())


async def test_each_registrys_events_are_screened_once_and_the_impossible_dead_lettered(
    platform: Platform, bootstrap: str
) -> None:
    started_ms = int(time.time() * 1000)
    run = uuid.uuid4().hex[:8]
    cases = {
        Registry.POPULATION: (
            life_event(
                Registry.POPULATION,
                LifeEventKind.TURNED_65_LIVING_ALONE,
                "1961-11-30",
                f"pop-{run}",
                lives_alone=True,
            ),
            "likely",
            ["home_care", "residential"],
        ),
        Registry.EDUCATION: (
            life_event(
                Registry.EDUCATION,
                LifeEventKind.LEFT_CHILDREN_INSTITUTION,
                "2007-05-01",
                f"edu-{run}",
            ),
            "likely",
            ["ngo_project"],
        ),
        Registry.JUSTICE: (
            life_event(
                Registry.JUSTICE,
                LifeEventKind.RELEASED_FROM_PENITENTIARY,
                "1979-03-12",
                f"jus-{run}",
            ),
            "likely",
            ["ngo_project"],
        ),
        Registry.DISABILITY: (
            life_event(
                Registry.DISABILITY,
                LifeEventKind.DISABILITY_DETERMINED,
                "1988-08-08",
                f"dis-{run}",
                disability_group=2,
            ),
            "likely",
            ["home_care"],
        ),
    }
    records: list[Record] = []
    screened_ids: dict[uuid.UUID, Registry] = {}
    for registry, (payload, _, _) in cases.items():
        subject, record = as_registry(payload, topics.LIFE_EVENTS[registry])
        screened_ids[subject] = registry
        records.append(record)
    # The population registry's record of someone the rules do not serve (36 years old).
    young = life_event(
        Registry.POPULATION,
        LifeEventKind.TURNED_65_LIVING_ALONE,
        "1990-01-01",
        f"young-{run}",
        lives_alone=True,
    )
    young_id, record = as_registry(young, topics.LIFE_EVENTS[Registry.POPULATION])
    records.append(record)
    # The same record sent again under a new event id and a new subject: screened once.
    again_id, record = as_registry(cases[Registry.JUSTICE][0], topics.LIFE_EVENTS[Registry.JUSTICE])
    records.append(record)
    # A justice registry event on the education registry's topic, and a record that is no event.
    stray_id, stray = as_registry(
        cases[Registry.JUSTICE][0].model_copy(update={"reference": f"stray-{run}"}),
        topics.LIFE_EVENTS[Registry.EDUCATION],
    )
    records.append(stray)
    education = topics.LIFE_EVENTS[Registry.EDUCATION].name
    records.append((education, uuid.uuid4().bytes, b"{not json", stray[3]))

    sent = await publish(bootstrap, records)
    await wait_committed(
        bootstrap,
        platform.groups["eligibility"],
        {TopicPartition(r.topic, r.partition): r.offset for r in sent},
        90,
    )

    async def prescreens() -> dict[uuid.UUID, list[PrescreenMade]] | None:
        found: dict[uuid.UUID, list[PrescreenMade]] = {}
        for r in await records_since(bootstrap, topics.PRESCREEN_MADE.name, started_ms):
            made = PrescreenMade.model_validate_json(r.value)
            found.setdefault(made.life_event_id, []).append(made)
        return found if {*screened_ids, young_id} <= set(found) else None

    found = await until(prescreens, 60)
    for subject, registry in screened_ids.items():
        [made] = found[subject]
        payload, outcome, provisions = cases[registry]
        assert (made.registry, made.kind, made.outcome.value) == (registry, payload.kind, outcome)
        assert [p.value for p in made.provision_types] == provisions
        assert made.district == "Nəsimi"
    [refused] = found[young_id]
    assert (refused.outcome.value, refused.provision_types) == ("unlikely", [])
    assert again_id not in found, "a record sent again is not screened again"
    assert stray_id not in found
    published = b"".join(
        r.value for r in await records_since(bootstrap, topics.PRESCREEN_MADE.name, started_ms)
    )
    for personal in (b"5XK2L9P", b"Quliyev", b"552223344"):
        assert personal not in published, "a pre-screen carries no identity"

    letters = [
        read_dead_letter(r.headers)
        for r in await records_since(bootstrap, topics.DEAD_LETTERS["eligibility"].name, started_ms)
    ]
    ours = {(x.original_topic, x.original_partition, x.original_offset): x for x in letters}
    stray_letter = ours[(education, sent[-2].partition, sent[-2].offset)]
    assert (
        "a justice registry event on the education registry's topic" in stray_letter.error_message
    )
    not_json = ours[(education, sent[-1].partition, sent[-1].offset)]
    assert "payload does not match LifeEventRecorded" in not_json.error_message
