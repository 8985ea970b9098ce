"""The partner streams' contract: pseudonymous ids, payloads without personal data, key settings."""

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from assignment.app import AssignmentSettings
from eligibility.app import EligibilitySettings
from intake.app import IntakeSettings
from socialsvc_common.apikeys import Role, issue
from socialsvc_common.auth import ApiSettings
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import Envelope, new_event
from socialsvc_common.contract.schemas import schema_of
from socialsvc_common.disclosure import DisclosurePolicy
from socialsvc_common.outbox import record_time_ms
from socialsvc_common.pseudonym import public_application_id
from socialsvc_common.public_stream import PublicStream, coarse_since
from socialsvc_common.settings import PseudonymSettings

KEY = b"a-test-pseudonym-key"
# Names of fields that would carry a person, or the real application, on a public topic.
PERSONAL = {"fin", "first_name", "last_name", "patronymic", "birth_date", "mobile_phone", "email"}
PERSONAL |= {"address", "applicant", "person_ref", "application_id", "placement_id"}


def property_names(schema: object) -> set[str]:
    if isinstance(schema, dict):
        own = set(schema.get("properties", {}))
        return own.union(*(property_names(value) for value in schema.values()))
    if isinstance(schema, list):
        return set().union(*(property_names(item) for item in schema))
    return set()


def test_the_public_id_is_a_keyed_hash_shaped_as_a_version_8_uuid() -> None:
    application_id = uuid4()
    ref = public_application_id(application_id, KEY)
    assert ref == public_application_id(application_id, KEY)
    assert ref.version == 8
    assert ref != application_id
    assert ref != public_application_id(application_id, b"another-pseudonym-key")
    assert ref != public_application_id(uuid4(), KEY)


@pytest.mark.parametrize("topic", topics.PUBLIC_TOPICS, ids=lambda t: t.name)
def test_public_payloads_have_no_personal_fields(topic: topics.Topic) -> None:
    assert not property_names(schema_of(topic)) & PERSONAL


@pytest.mark.parametrize("topic", topics.PUBLIC_APPLICATION_TOPICS, ids=lambda t: t.name)
def test_an_application_is_named_on_public_topics_by_its_pseudonymous_id(
    topic: topics.Topic,
) -> None:
    names = property_names(schema_of(topic))
    assert "application_ref" in names
    assert "status" in names


def received() -> p.ApplicationReceived:
    applicant = p.Applicant(
        fin="7QX9K2M",
        first_name="Leyla",
        last_name="Əliyeva",
        birth_date=date(1946, 5, 1),
        mobile_phone="+994501234567",
        email="leyla@example.az",
        district="Nəsimi",
    )
    return p.ApplicationReceived(
        application_id=uuid4(),
        submitted_at=datetime.now(UTC),
        channel="web",
        service_requested=p.ServiceRequested.HOME_CARE,
        applicant=applicant,
        circumstances=p.Circumstances(lives_alone=True),
        person_ref="0" * 32,
    )


def test_a_public_twin_is_keyed_and_addressed_by_the_pseudonymous_id_only() -> None:
    private = received()
    event = PublicStream("intake", KEY).received(private)
    ref = public_application_id(private.application_id, KEY)
    headers = dict(event.envelope.to_headers())
    assert event.topic is topics.PUBLIC_APPLICATION_RECEIVED
    assert event.key == str(ref).encode()
    assert headers["ce_subject"] == str(ref).encode()
    assert headers["ce_correlationid"] == headers["ce_id"]
    assert "ce_causationid" not in headers
    value = event.value().decode()
    for secret in ("7QX9K2M", "Leyla", "Əliyeva", "+994501234567", "leyla@example.az", "0" * 32):
        assert secret not in value
    assert str(private.application_id) not in value + json.dumps(
        [[k, v.decode()] for k, v in event.envelope.to_headers()]
    )
    assert json.loads(value) | {"received_at": None} == {
        "application_ref": str(ref),
        "status": "received",
        "received_at": None,
        "service_requested": "home_care",
        "district": "Nəsimi",
        "channel": "web",
        "revision": 1,
    }
    assert Envelope.from_headers(event.envelope.to_headers()).application_id == ref


def test_an_unknown_release_reason_reaches_partners_as_other() -> None:
    released = p.PlacementReleased(
        application_id=uuid4(),
        placement_id=uuid4(),
        provider_id="hc-xetai",
        reason="a caseworker's note with a name in it",
        released_at=datetime.now(UTC),
    )
    event = PublicStream("assignment", KEY).released(released, p.ProvisionType.HOME_CARE)
    assert json.loads(event.value())["reason"] == "other"


MOMENT = datetime(2026, 11, 22, 10, 37, 12, 345000, tzinfo=UTC)
HOUR = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
VICTIMS = [p.TargetGroup.TRAFFICKING_VICTIM, p.TargetGroup.DOMESTIC_VIOLENCE_VICTIM]


def ce_time(event: Any) -> datetime:
    return datetime.fromisoformat(dict(event.envelope.to_headers())["ce_time"].decode())


def on_the_hour(moment: datetime) -> bool:
    return (moment.minute, moment.second, moment.microsecond) == (0, 0, 0)


def decision(groups: list[p.TargetGroup]) -> p.DecisionMade:
    return p.DecisionMade(
        application_id=uuid4(),
        decided_at=MOMENT,
        outcome=p.Outcome.ELIGIBLE,
        rule_set_version="2026-1",
        district="Nəsimi",
        groups=groups,
        provision_types=[p.ProvisionType.NGO_PROJECT],
        age_band=p.AgeBand.YOUNG_ADULT,
    )


def test_public_times_and_the_offer_deadline_are_cut_to_the_hour() -> None:
    stream = PublicStream("assignment", KEY)
    ids = {"application_id": uuid4(), "placement_id": uuid4(), "provider_id": "ngo-1"}
    expires = MOMENT + timedelta(days=3)
    placed = stream.placed(
        p.PlacementMade(
            **ids,
            provider_name="Ümid",
            provision_type=p.ProvisionType.NGO_PROJECT,
            district="Nəsimi",
            placed_at=MOMENT,
            offer_expires_at=expires,
        ),
        [],
    )
    waiting = p.PlacementWaitlisted(
        application_id=ids["application_id"],
        provision_type=p.ProvisionType.RESIDENTIAL,
        district="Nəsimi",
        priority_score=2.5,
        waitlisted_at=MOMENT,
    )
    released = p.PlacementReleased(**ids, reason="declined", released_at=MOMENT)
    private_received = received().model_copy(update={"submitted_at": MOMENT})
    twins = {
        "received_at": PublicStream("intake", KEY).received(private_received),
        "decided_at": PublicStream("eligibility", KEY).decided(decision([])),
        "placed_at": placed,
        "waitlisted_at": stream.waitlisted(waiting, []),
        "released_at": stream.released(released, p.ProvisionType.NGO_PROJECT),
    }
    before = datetime.now(UTC)
    for field, event in twins.items():
        assert getattr(event.payload, field) == HOUR, field
        at = ce_time(event)
        assert on_the_hour(at), (field, at)
        assert before - timedelta(hours=1) < at <= before, (field, at)
    assert json.loads(placed.value())["offer_expires_at"] == "2026-11-25T10:00:00Z"


def test_a_policy_given_sets_the_unit_public_times_are_cut_to() -> None:
    quarter = DisclosurePolicy(
        version="test", min_cell=5, sensitive_groups=frozenset(VICTIMS), public_time_minutes=15
    )
    event = PublicStream("eligibility", KEY, quarter).decided(decision([]))
    assert json.loads(event.value())["decided_at"] == "2026-11-22T10:30:00Z"
    assert ce_time(event).minute % 15 == 0
    assert (ce_time(event).second, ce_time(event).microsecond) == (0, 0)


def test_sensitive_groups_are_never_named_on_public_records() -> None:
    groups = [p.TargetGroup.DISABILITY, *VICTIMS]
    stream = PublicStream("assignment", KEY)
    made = decision(groups)
    decided = PublicStream("eligibility", KEY).decided(made)
    placed = stream.placed(
        p.PlacementMade(
            application_id=made.application_id,
            placement_id=uuid4(),
            provider_id="ngo-1",
            provider_name="Ümid",
            provision_type=p.ProvisionType.NGO_PROJECT,
            district="Nəsimi",
            placed_at=MOMENT,
        ),
        groups,
    )
    waiting = p.PlacementWaitlisted(
        application_id=made.application_id,
        provision_type=p.ProvisionType.NGO_PROJECT,
        district="Nəsimi",
        priority_score=1.0,
        waitlisted_at=MOMENT,
    )
    waitlisted = stream.waitlisted(waiting, groups)
    for event in (decided, placed, waitlisted):
        assert json.loads(event.value())["groups"] == ["disability"], event.topic.name
        for victim in VICTIMS:
            assert victim.value not in event.value().decode()
    assert made.groups == groups, "the private decision keeps every group"
    victim_only = PublicStream("eligibility", KEY).decided(decision(VICTIMS[:1]))
    assert json.loads(victim_only.value())["groups"] == []


def test_the_decided_twin_carries_the_age_band() -> None:
    event = PublicStream("eligibility", KEY).decided(decision([]))
    assert json.loads(event.value())["age_band"] == "18-34"
    unknown = decision([]).model_copy(update={"age_band": None})
    assert json.loads(PublicStream("eligibility", KEY).decided(unknown).value())["age_band"] is None


def header_pairs(event: Any) -> list[list[str]]:
    return [[k, v.decode()] for k, v in event.envelope.to_headers()]


def test_the_relay_stamps_public_application_records_with_their_coarse_envelope_time() -> None:
    twin = PublicStream("eligibility", KEY).decided(decision([]))
    stamp = record_time_ms(twin.topic.name, header_pairs(twin))
    assert stamp == int(ce_time(twin).timestamp() * 1000)
    assert stamp % 3_600_000 == 0
    made = decision([])
    private = new_event(
        topics.DECISION_MADE, made, producer="eligibility", application_id=made.application_id
    )
    assert record_time_ms(private.topic.name, header_pairs(private)) is None


def test_a_reader_seeking_by_time_on_a_public_application_topic_starts_at_the_hour() -> None:
    assert coarse_since(topics.PUBLIC_APPLICATION_PLACED.name, MOMENT) == HOUR
    assert coarse_since(topics.PLACEMENT_MADE.name, MOMENT) == MOMENT
    assert coarse_since(topics.PUBLIC_PROVIDER_CHANGED.name, MOMENT) == MOMENT


@pytest.mark.parametrize("settings", [IntakeSettings, EligibilitySettings, AssignmentSettings])
def test_production_refuses_the_development_pseudonym_key(
    settings: type[PseudonymSettings], tmp_path: Path
) -> None:
    production: dict[str, Any] = {
        "environment": "production",
        "database_url": "postgresql+psycopg://svc:s3cret-value@db/x",
    }
    if issubclass(settings, ApiSettings):  # production needs its key store as well
        store = tmp_path / "api-keys.jsonl"
        issue(store, "egov-gateway", Role.SUBMITTER)
        production["api_keys_file"] = store
    with pytest.raises(ValidationError, match="PSEUDONYM_KEY"):
        settings.model_validate(production)
    chosen = settings.model_validate(production | {"pseudonym_key": "k" * 32})
    assert chosen.pseudonym_key_bytes == b"k" * 32
    assert "k" * 32 not in repr(chosen)


def test_a_place_with_a_provider_of_victims_names_neither_the_provider_nor_its_district() -> None:
    stream = PublicStream("assignment", KEY)
    ids = {"application_id": uuid4(), "placement_id": uuid4(), "provider_id": "inst-shelter"}
    made = p.PlacementMade(
        **ids,
        provider_name="Sığınacaq",
        provision_type=p.ProvisionType.RESIDENTIAL,
        district="Nəsimi",
        placed_at=MOMENT,
    )
    released = p.PlacementReleased(**ids, reason="moved", released_at=MOMENT)
    shelter = [p.TargetGroup.TRAFFICKING_VICTIM]
    placed = json.loads(stream.placed(made, [], shelter).value())
    assert (placed["provider_id"], placed["district"]) == ("protected", "Bakı")
    gone = stream.released(released, p.ProvisionType.RESIDENTIAL, shelter)
    assert json.loads(gone.value())["provider_id"] == "protected"
    home = [p.TargetGroup.ELDERLY]
    placed = json.loads(stream.placed(made, [], home).value())
    assert (placed["provider_id"], placed["district"]) == ("inst-shelter", "Nəsimi")
