"""Life events from the state registries, pre-screened by the eligibility process on the real
broker and database (issue 21): each registry's events on its own topic, each record screened
once however often it is sent, and what a registry could not have sent dead-lettered with its
reason while the rest goes on."""

import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from aiokafka import TopicPartition

from socialsvc_common.apikeys import Role
from socialsvc_common.consumer import read_dead_letter
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import new_event
from socialsvc_common.contract.payloads import (
    LifeEventKind,
    LifeEventRecorded,
    OfferUpdated,
    PrescreenMade,
    Registry,
)
from socialsvc_common.db import libpq_url
from socialsvc_common.explanations import application_ref
from socialsvc_ops.subject.report import gather
from tests.harness import ROOT, records_since, until, wait_committed

from .conftest import Platform
from .test_consent import publish
from .test_data_subject_rights import STATISTICS, person, wait_until_erased, where_found
from .test_portal import DISTRICT, Citizen, assert_problem, new_fin, offered

pytestmark = pytest.mark.integration

Record = tuple[str, bytes, bytes, list[Any]]
EXAMPLE = ROOT / "docs" / "examples" / "report_life_event.py"


@pytest.fixture
def platform(shared_platform: Platform) -> Platform:
    """The module's tests share one platform: each looks only at life events of its own."""
    return shared_platform


def life_event(
    registry: Registry,
    kind: LifeEventKind,
    born: str,
    reference: str,
    *,
    fin: str = "5XK2L9P",
    district: str = "Nəsimi",
    **facts: Any,
) -> LifeEventRecorded:
    return LifeEventRecorded.model_validate(
        {
            "registry": registry,
            "reference": reference,
            "kind": kind,
            "occurred_on": date(2026, 12, 1),
            "person": {
                "fin": fin,
                "first_name": "Rəşid",
                "last_name": "Quliyev",
                "birth_date": born,
                "mobile_phone": "+994552223344",
                "district": district,
                "language": "ru",
            },
            **facts,
        }
    )


def as_registry(
    payload: LifeEventRecorded, topic: topics.Topic, subject: uuid.UUID | None = None
) -> tuple[uuid.UUID, Record]:
    """What the registry publishes (a new event id; the life event's id as the subject unless
    another is given), and the platform's id of the life event."""
    event = new_event(
        topic,
        payload,
        producer=f"registry/{payload.registry}",
        application_id=subject or payload.life_event_id,
    )
    return payload.life_event_id, (
        topic.name,
        event.key,
        event.value(),
        event.envelope.to_headers(),
    )


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
    # The same record sent again under a new event id: screened once.
    _, record = as_registry(cases[Registry.JUSTICE][0], topics.LIFE_EVENTS[Registry.JUSTICE])
    records.append(record)
    # A record under a subject of the registry's own: what is archived and erased under the
    # life event's id could not be found, so it is refused.
    elsewhere = cases[Registry.DISABILITY][0].model_copy(update={"reference": f"subj-{run}"})
    elsewhere_id, record = as_registry(
        elsewhere, topics.LIFE_EVENTS[Registry.DISABILITY], subject=uuid.uuid4()
    )
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
        [made] = found[subject]  # once each, the justice record sent twice included
        payload, outcome, provisions = cases[registry]
        assert (made.registry, made.kind, made.outcome.value) == (registry, payload.kind, outcome)
        assert [p.value for p in made.provision_types] == provisions
        assert made.district == "Nəsimi"
    [refused] = found[young_id]
    assert (refused.outcome.value, refused.provision_types) == ("unlikely", [])
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
    disability = topics.LIFE_EVENTS[Registry.DISABILITY].name
    [wrong_subject] = [
        x
        for x in letters
        if x.original_topic == disability and str(elsewhere_id) in x.error_message
    ]
    assert "the subject of a life event is its id" in wrong_subject.error_message
    assert elsewhere_id not in found


async def offers_of(citizen: Citizen, count: int) -> list[dict[str, Any]]:
    async def listed() -> list[dict[str, Any]] | None:
        answer = await citizen.call("GET", f"{citizen.intake}/portal/offers")
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()
        return found if len(found) >= count else None

    found: list[dict[str, Any]] = await until(listed, 90)
    return found


def report_with_the_example(
    bootstrap: str, registry: Registry, event: LifeEventRecorded, directory: Path
) -> str:
    """docs/examples/report_life_event.py sending one record; what it printed."""
    events = directory / "events.jsonl"
    events.write_text(event.model_dump_json() + "\n")
    done = subprocess.run(
        [
            sys.executable,
            str(EXAMPLE),
            f"--bootstrap={bootstrap}",
            f"--registry={registry}",
            str(events),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


async def test_a_life_event_becomes_an_offer_accepted_with_consent_and_a_place_or_declined(
    platform: Platform, bootstrap: str, tmp_path: Path
) -> None:
    started_ms = int(time.time() * 1000)
    fin = new_fin()
    citizen = Citizen(platform, fin)
    run = uuid.uuid4().hex[:8]
    alone = life_event(
        Registry.POPULATION,
        LifeEventKind.TURNED_65_LIVING_ALONE,
        "1944-04-12",
        f"alone-{run}",
        fin=fin,
        district=DISTRICT,
        lives_alone=True,
    )
    released = life_event(
        Registry.JUSTICE,
        LifeEventKind.RELEASED_FROM_PENITENTIARY,
        "1985-02-02",
        f"out-{run}",
        fin=fin,
        district=DISTRICT,
    )
    alone_id, first = as_registry(alone, topics.LIFE_EVENTS[Registry.POPULATION])
    await publish(bootstrap, [first])
    # The other as a registry would send it: the README's example client, plain aiokafka.
    released_id = released.life_event_id
    reported = report_with_the_example(bootstrap, Registry.JUSTICE, released, tmp_path)
    assert reported.startswith(f"out-{run} "), reported

    offers = {UUID(o["offer_id"]): o for o in await offers_of(citizen, 2)}
    care = offers[alone_id]
    assert (care["status"], care["kind"]) == ("offered", "turned_65_living_alone")
    assert care["provision_types"][0] == "home_care"
    assert care["missing"] == ["activities_needing_help"]
    assert care["application_id"] is None
    # The person is told, in their language, what they may receive and by when to answer.
    reference = application_ref(alone_id)

    async def told() -> list[str] | None:
        texts = [line["text"] for line in platform.sink_lines("sms.jsonl")]
        return [text for text in texts if reference in text] or None

    [message] = await until(told, 60)
    assert "социальные услуги" in message
    assert "социальное обслуживание на дому" in message
    assert date.fromisoformat(care["answer_by"]).strftime("%d.%m.%Y") in message
    # Someone else's FIN sees none of them, and cannot answer them.
    stranger = Citizen(platform, new_fin())
    assert (await stranger.call("GET", f"{stranger.intake}/portal/offers")).json() == []
    refused = await stranger.call("POST", f"{stranger.intake}/portal/offers/{alone_id}/decline")
    assert_problem(refused, 404, "not-found")

    # Without consent nothing goes further: no application, the offer still open.
    url = f"{citizen.intake}/portal/offers/{alone_id}/acceptance"
    no = await citizen.call("POST", url, json={"consent_to_processing": False})
    assert_problem(no, 422, "consent-required")
    assert (await citizen.call("GET", f"{citizen.intake}/portal/applications")).json() == []
    still = {o["offer_id"]: o for o in await offers_of(citizen, 2)}
    assert still[str(alone_id)]["status"] == "offered"

    yes = {
        "consent_to_processing": True,
        "activities_needing_help": ["washing", "shopping", "housework", "medication"],
        "monthly_household_income_azn": "280",
    }
    accepted = await citizen.call("POST", url, json=yes)
    assert accepted.status_code == 202, accepted.text
    application_id = accepted.json()["application_id"]
    again = await citizen.call("POST", url, json=yes)
    assert again.json()["application_id"] == application_id, "accepting twice applies once"
    # Again with other facts: the application made stays the one, and the offer accepted.
    other = await citizen.call("POST", url, json={**yes, "monthly_household_income_azn": "999"})
    assert (other.status_code, other.json()["application_id"]) == (202, application_id)

    # The normal journey, with the registry's facts filled in: a decision, then a place offered.
    view = await citizen.seen(application_id, offered)
    assert view["service_requested"] == "home_care"
    assert "home_care" in [g["code"] for g in view["decision"]["provision_types"]]
    listed = (await citizen.call("GET", f"{citizen.intake}/portal/applications")).json()
    assert [a["application_id"] for a in listed] == [application_id]
    placement = view["offer"]["placement_id"]
    assert (await citizen.answer(placement, "accept")).status_code == 202
    await citizen.seen(application_id, lambda v: v["offer"]["status"] == "accepted")
    answered = {o["offer_id"]: o for o in await offers_of(citizen, 2)}
    assert answered[str(alone_id)]["status"] == "accepted"
    assert answered[str(alone_id)]["application_id"] == application_id

    # The other offer declined: ended, and answering it again is refused.
    decline = f"{citizen.intake}/portal/offers/{released_id}/decline"
    declined = await citizen.call("POST", decline)
    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "declined"
    late = await citizen.call(
        "POST", f"{citizen.intake}/portal/offers/{released_id}/acceptance", json=yes
    )
    assert_problem(late, 409, "offer-closed")
    assert len((await citizen.call("GET", f"{citizen.intake}/portal/applications")).json()) == 1

    # What became of each offer, on the identity-free topic the ministry's funnel reads.
    updates = await offer_updates(bootstrap, started_ms, {alone_id: 2, released_id: 2})
    assert [(u.status.value, u.application_id) for u in updates[alone_id]] == [
        ("offered", None),
        ("accepted", UUID(application_id)),
    ]
    assert [u.status.value for u in updates[released_id]] == ["offered", "declined"]


async def offer_updates(
    bootstrap: str, since_ms: int, wanted: dict[UUID, int]
) -> dict[UUID, list[OfferUpdated]]:
    """The updates of these offers published since then, once each offer has as many as wanted,
    in order; none carries the person."""

    async def published() -> dict[UUID, list[OfferUpdated]] | None:
        records = await records_since(bootstrap, topics.OFFER_UPDATED.name, since_ms)
        found: dict[UUID, list[OfferUpdated]] = {}
        for record in records:
            update = OfferUpdated.model_validate_json(record.value)
            found.setdefault(update.offer_id, []).append(update)
        for record in records:
            assert b'"fin"' not in record.value, record.value
            assert b"+994" not in record.value, record.value
        enough = all(len(found.get(offer, [])) >= n for offer, n in wanted.items())
        return found if enough else None

    found = await until(published, 60)
    return {offer: sorted(found[offer], key=lambda u: u.updated_at) for offer in wanted}


async def test_an_unanswered_offer_lapses_and_a_person_reached_only_by_offers_can_be_erased(
    platform: Platform, bootstrap: str
) -> None:
    started_ms = int(time.time() * 1000)
    subject = person()
    citizen = Citizen(platform, subject["fin"])
    event = life_event(
        Registry.EDUCATION,
        LifeEventKind.LEFT_CHILDREN_INSTITUTION,
        "2007-09-15",
        f"late-{uuid.uuid4().hex[:8]}",
        fin=subject["fin"],
        district=DISTRICT,
    )
    event = LifeEventRecorded.model_validate(
        {
            **event.model_dump(mode="json"),
            "person": {**event.person.model_dump(mode="json"), **subject},
        }
    )
    offer_id, record = as_registry(event, topics.LIFE_EVENTS[Registry.EDUCATION])
    await publish(bootstrap, [record])
    [offer] = await offers_of(citizen, 1)
    assert offer["status"] == "offered"

    # The month to answer passes with no answer (the offer's day moved back): a no. The sweeper
    # marks it and says so; it can be neither accepted nor declined any more.
    databases = platform.extra["databases"]
    with psycopg.connect(libpq_url(databases["intake"]), autocommit=True) as connection:
        connection.execute(
            "UPDATE offers SET answer_by = answer_by - 31 WHERE offer_id = %s", [offer_id]
        )
    updates = await offer_updates(bootstrap, started_ms, {offer_id: 2})
    assert [u.status.value for u in updates[offer_id]] == ["offered", "lapsed"]
    [lapsed] = (await citizen.call("GET", f"{citizen.intake}/portal/offers")).json()
    assert lapsed["status"] == "lapsed"
    url = f"{citizen.intake}/portal/offers/{offer_id}"
    late = await citizen.call("POST", f"{url}/acceptance", json={"consent_to_processing": True})
    assert_problem(late, 409, "offer-closed")
    assert_problem(await citizen.call("POST", f"{url}/decline"), 409, "offer-closed")

    # The person never applied, yet what is held about them is reported, and erased on request.
    services = {name: platform.urls[name] for name in STATISTICS}
    secrets = [subject["fin"], subject["last_name"], subject["mobile_phone"].removeprefix("+")]
    # Notifications learns the contact from the offer, on a topic of its own: nothing above waited
    # for it to read that.
    held = await until(
        lambda: holdings_with_contact(services, platform.keys[Role.OPERATOR], subject["fin"]),
        seconds=30,
    )
    assert held, "notifications never reported the offer's contact"
    assert (held["application_ids"], held["offer_ids"]) == ([], [str(offer_id)])
    categories = categories_of(held)
    assert categories["intake"] == {"life_event"}
    assert "contact" in categories["notifications"]
    assert where_found(databases, secrets)
    async with platform.client("intake", Role.ADMINISTRATOR) as admin:
        body = {"fin": subject["fin"], "legal_basis": "Law on Personal Data, art. 7; req. 2030/9"}
        erased = await admin.post("/subjects/erasures", json=body)
        assert erased.status_code == 202, erased.text
        assert (erased.json()["application_ids"], erased.json()["offer_ids"]) == (
            [],
            [str(offer_id)],
        )
        assert (await admin.post("/subjects/erasures", json=body)).status_code == 404
    await wait_until_erased(databases, secrets, seconds=60)
    assert (await citizen.call("GET", f"{citizen.intake}/portal/offers")).json() == []
    with psycopg.connect(libpq_url(databases["intake"])) as connection:
        kept = connection.execute(
            "SELECT person, kind, reference, occurred_on FROM life_events WHERE life_event_id = %s",
            [offer_id],
        ).fetchall()
    assert kept == [
        ({"district": DISTRICT, "language": "ru"}, "left_children_institution", None, None)
    ]
    # Eligibility's pre-screen holds no identity, so the wait above did not wait for it: it
    # reads the erasure in a consumer group of its own.
    screened = await until(lambda: prescreen_once_erased(databases["eligibility"], offer_id), 30)
    assert screened == [(None, None, "likely")]


async def holdings_with_contact(
    services: dict[str, str], key: str, fin: str
) -> dict[str, Any] | None:
    """What the services report holding about `fin`, once notifications holds a contact."""
    held = await gather(services, key, fin, None)
    return held if "contact" in categories_of(held).get("notifications", set()) else None


def categories_of(held: dict[str, Any]) -> dict[str, set[str]]:
    return {a["service"]: {h["category"] for h in a["holdings"]} for a in held["services"]}


async def prescreen_once_erased(database: str, life_event_id: UUID) -> list[Any] | None:
    """The life event's pre-screen (reference, day, outcome) once its reference is erased."""
    with psycopg.connect(libpq_url(database)) as connection:
        screened = connection.execute(
            "SELECT reference, occurred_on, outcome FROM prescreens WHERE life_event_id = %s",
            [life_event_id],
        ).fetchall()
    return screened if screened and screened[0][0] is None else None
