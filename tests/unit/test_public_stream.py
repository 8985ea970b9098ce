"""The partner streams' contract: pseudonymous ids, payloads without personal data, key settings."""

import json
from datetime import UTC, date, datetime
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
from socialsvc_common.contract.envelope import Envelope
from socialsvc_common.contract.schemas import schema_of
from socialsvc_common.pseudonym import public_application_id
from socialsvc_common.public_stream import PublicStream
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
