"""Who gave a command: the actor in the contract, on the envelope as `ce_actor`, and where it
stops (a cause's effects, the partner twins)."""

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest
from aiokafka import ConsumerRecord

from intake.app import EGOV_GATEWAY, egov_submitter
from socialsvc_common.apikeys import Caller, Role
from socialsvc_common.consumer import InvalidRecord, Rejected, parse
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics
from socialsvc_common.contract.actor import MAX_LENGTH, Actor
from socialsvc_common.contract.envelope import Envelope, InvalidEnvelope, new_event
from socialsvc_common.public_stream import PublicStream

WORKER = Actor(role=Role.SOCIAL_WORKER, name="nesimi.worker-2")
UPDATED = p.PlacementUpdated(
    application_id=uuid4(),
    placement_id=uuid4(),
    provider_id="hc-xetai",
    status=p.PlacementStatus.ACCEPTED,
    updated_at=datetime.now(UTC),
)


def updated(actor: Actor | None = None, cause: Envelope | None = None) -> Envelope:
    return new_event(
        topics.PLACEMENT_UPDATED,
        UPDATED,
        producer="assignment",
        application_id=UPDATED.application_id,
        actor=actor,
        cause=cause,
    ).envelope


def with_actor(header: bytes) -> list[tuple[str, bytes]]:
    return [(k, v) for k, v in updated().to_headers()] + [("ce_actor", header)]


def test_an_actor_is_its_role_and_name_and_reads_back_from_that_form() -> None:
    assert str(WORKER) == "social_worker:nesimi.worker-2"
    assert Actor.parse(str(WORKER)) == WORKER
    assert Actor.stored(None) is None
    caller = Caller(name="egov-1", role=Role.SUBMITTER, issued_at=datetime.now(UTC))
    assert Actor.of(caller) == Actor(role=Role.SUBMITTER, name="egov-1")
    longest = Actor(role=Role.SOCIAL_WORKER, name="n" * 64)
    assert len(str(longest)) <= MAX_LENGTH


def test_every_actor_fits_the_columns_that_store_it_whatever_its_role() -> None:
    # The portal's role is the longest: its names are one character shorter, so an actor never
    # outgrows the columns (78 characters) that the migrations made.
    assert MAX_LENGTH == 78
    portal = Actor(role=Role.CITIZEN_PORTAL, name="p" * 63)
    assert len(str(portal)) == MAX_LENGTH
    assert Actor.parse(str(portal)) == portal
    with pytest.raises(ValueError, match="at most 63 characters"):
        Actor(role=Role.CITIZEN_PORTAL, name="p" * 64)
    with pytest.raises(ValueError, match="an actor is <role>:<name>"):
        Actor.parse("citizen_portal:" + "p" * 64)


@pytest.mark.parametrize(
    "text",
    [
        "worker-with-no-role",
        "nurse:anna",
        "operator:",
        "operator:with space",
        "operator:" + "x" * 65,
    ],
)
def test_what_is_not_an_actor_is_refused_without_being_echoed(text: str) -> None:
    with pytest.raises(ValueError, match="an actor is <role>:<name>") as refused:
        Actor.parse(text)
    assert text not in str(refused.value)


def test_the_actor_travels_as_the_ce_actor_header_and_back() -> None:
    envelope = updated(WORKER)
    headers = dict(envelope.to_headers())
    assert headers["ce_actor"] == b"social_worker:nesimi.worker-2"
    assert Envelope.from_headers(envelope.to_headers()) == envelope
    assert "ce_actor" not in dict(updated().to_headers())
    assert Envelope.from_headers(updated().to_headers()).actor is None


@pytest.mark.parametrize("header", [b"administrator", b"root:admin", b"operator:a b", b"\xff"])
def test_a_bad_ce_actor_header_is_named_and_dead_letters_the_record(header: bytes) -> None:
    with pytest.raises(InvalidEnvelope, match="ce_actor"):
        Envelope.from_headers(with_actor(header))
    value = UPDATED.model_dump_json().encode()
    record = ConsumerRecord(
        topics.PLACEMENT_UPDATED.name,
        0,
        7,
        0,
        0,
        b"k",
        value,
        None,
        len(value),
        0,
        with_actor(header),
    )
    with pytest.raises(InvalidRecord, match="ce_actor"):
        parse(record, topics.PLACEMENT_UPDATED)


def test_the_actor_does_not_pass_from_a_command_to_what_the_service_does_next() -> None:
    command = updated(WORKER)
    effect = updated(cause=command)
    assert effect.causation_id == command.event_id
    assert effect.actor is None


def test_partner_twins_carry_no_actor() -> None:
    form = p.ApplicationForm.model_validate(
        {
            "service_requested": "home_care",
            "consent_to_processing": True,
            "applicant": {
                "fin": "1AB2C3D",
                "first_name": "Leyla",
                "last_name": "Əliyeva",
                "birth_date": date(1946, 5, 1).isoformat(),
                "mobile_phone": "+994501234567",
                "language": "az",
                "district": "Nəsimi",
            },
            "circumstances": {"lives_alone": True},
        }
    )
    received = p.ApplicationReceived(
        application_id=uuid4(),
        submitted_at=datetime.now(UTC),
        channel="web",
        service_requested=form.service_requested,
        applicant=form.applicant,
        circumstances=form.circumstances,
    )
    twin = PublicStream("intake", b"k" * 32).received(received)
    assert twin.envelope.actor is None
    assert "ce_actor" not in dict(twin.envelope.to_headers())


def test_an_egov_submission_is_the_gateways_unless_it_names_a_submitting_client() -> None:
    assert egov_submitter(updated()) == EGOV_GATEWAY == Actor.parse("submitter:egov-gateway")
    client = Actor(role=Role.SUBMITTER, name="asan-xidmet")
    assert egov_submitter(updated(client)) == client
    assert egov_submitter(updated(WORKER)) == WORKER
    with pytest.raises(Rejected, match="not from the role operator"):
        egov_submitter(updated(Actor(role=Role.OPERATOR, name="ops")))
