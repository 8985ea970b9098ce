"""Which channel comes next for a citizen, and what a final failure asks for: pure decisions."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from notifications.outcomes import channel_failed, delivered
from notifications.routing import channels_for, next_channel
from notifications.store import FAILED, PENDING, SENT, ContactRow, NotificationRow
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SMS, EMAIL, INBOX = p.Channel.SMS, p.Channel.EMAIL, p.Channel.EGOV_INBOX


def contact(
    email: str | None = None, preferred: p.Channel | None = None, *, alone: bool = False
) -> ContactRow:
    return ContactRow(
        application_id=uuid4(),
        fin="1AB2C3D",
        mobile_phone="+994501234567",
        email=email,
        language="az",
        preferred_channel=preferred,
        district="Xətai",
        lives_alone=alone,
    )


def message(
    person: ContactRow, channel: p.Channel, gateway_id: str | None = None
) -> NotificationRow:
    return NotificationRow(
        id=uuid4(),
        application_id=person.application_id,
        event_id=uuid4(),
        kind="received",
        context={},
        channel=channel.value,
        gateway_message_id=gateway_id,
        attempts=3,
        occurred_at=NOW,
        hold_until=NOW,
        next_attempt_at=NOW,
    )


@pytest.mark.parametrize(
    ("email", "preferred", "order"),
    [
        (None, None, [SMS, INBOX]),
        ("a@example.az", None, [EMAIL, SMS, INBOX]),
        ("a@example.az", SMS, [SMS, EMAIL, INBOX]),
        ("a@example.az", INBOX, [INBOX, EMAIL, SMS]),
        (None, INBOX, [INBOX, SMS]),
        (None, EMAIL, [SMS, INBOX]),  # no address to use the preference with
    ],
)
def test_the_preferred_channel_goes_first_then_the_others_with_an_address(
    email: str | None, preferred: p.Channel | None, order: list[p.Channel]
) -> None:
    person = contact(email, preferred)
    assert channels_for(person) == order
    walked = [order[0]]
    while (following := next_channel(person, walked[-1])) is not None:
        walked.append(following)
    assert walked == order


def test_a_refusal_moves_the_message_to_the_next_channel_at_once() -> None:
    person = contact("a@example.az", SMS)
    row = message(person, SMS, gateway_id="gw-1")
    [event] = channel_failed(row, person, SMS, "sms: gateway answered 400", NOW)
    assert (row.status, row.channel, row.next_attempt_at) == (PENDING, "email", NOW)
    assert (row.attempts, row.gateway_message_id) == (0, None)
    assert event.topic is topics.NOTIFICATION_FAILED
    assert isinstance(event.payload, p.NotificationFailed)
    assert (event.payload.channel, event.payload.final) == (SMS, False)
    assert (event.payload.language, event.payload.message_kind) == (p.Language.AZ, "received")


def test_the_last_refusal_is_final_and_asks_home_care_to_tell_a_person_living_alone() -> None:
    person = contact(None, None, alone=True)
    row = message(person, INBOX)
    failed, visit = channel_failed(row, person, INBOX, "egov_inbox: gateway answered 404", NOW)
    assert row.status == FAILED
    assert isinstance(failed.payload, p.NotificationFailed)
    assert failed.payload.final
    assert visit.topic is topics.HOME_VISIT_REQUESTED
    request = visit.payload
    assert isinstance(request, p.HomeVisitRequested)
    assert (request.notification_id, request.district) == (row.id, "Xətai")
    assert request.channels_tried == [SMS, INBOX]
    assert "qəbul" in request.text  # the received message, in Azerbaijani
    assert person.fin not in request.text
    assert person.mobile_phone not in request.model_dump_json()


def test_no_visit_is_asked_for_a_person_who_does_not_live_alone() -> None:
    person = contact(None, None, alone=False)
    row = message(person, INBOX)
    [failed] = channel_failed(row, person, INBOX, "egov_inbox: gateway answered 404", NOW)
    assert row.status == FAILED
    assert failed.topic is topics.NOTIFICATION_FAILED


def test_delivery_records_the_channel_it_came_through() -> None:
    person = contact("a@example.az", SMS)
    row = message(person, EMAIL)
    [event] = delivered(row, person, EMAIL, NOW)
    assert (row.status, row.channel, row.sent_at) == (SENT, "email", NOW)
    assert isinstance(event.payload, p.NotificationDelivered)
    assert event.payload.channel is EMAIL
    assert (event.payload.language, event.payload.message_kind) == (p.Language.AZ, "received")


def test_a_message_to_an_erased_contact_names_no_language() -> None:
    person = contact(None, None)
    person.language = ""  # what erasure leaves of it
    row = message(person, SMS)
    row.kind = "placement_made"
    [event] = delivered(row, person, SMS, NOW)
    assert isinstance(event.payload, p.NotificationDelivered)
    assert (event.payload.language, event.payload.message_kind) == (None, "placement_made")
