"""What follows a delivery attempt's answer, whether it came at once or later by receipt: the
delivered event, or a failure that moves the message to the citizen's next channel, and when none
is left, a final failure (and for a person living alone, a request to tell them in person)."""

from datetime import datetime

from notifications.routing import channels_for, next_channel
from notifications.store import FAILED, PENDING, SENT, ContactRow, NotificationRow
from notifications.templates import MessageContext, MessageKind, application_ref, render
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract import topics
from socialsvc_common.contract.envelope import Event, new_event

NAME = "notifications"


def delivered(
    row: NotificationRow, contact: ContactRow, channel: p.Channel, now: datetime
) -> list[Event]:
    """The message reached the citizen."""
    row.status, row.channel = SENT, channel.value
    row.sent_at = row.sent_at or now
    row.delivered_at = row.delivered_at or now
    payload = p.NotificationDelivered(
        application_id=row.application_id,
        notification_id=row.id,
        channel=channel,
        delivered_at=now,
        segments=row.segments,
        language=language_of(contact),
        message_kind=row.kind,
    )
    return [_event(topics.NOTIFICATION_DELIVERED, payload, row)]


def channel_failed(
    row: NotificationRow, contact: ContactRow, channel: p.Channel, reason: str, now: datetime
) -> list[Event]:
    """The channel refused the message for good: try the next one at once, or give up."""
    row.last_error = reason
    following = next_channel(contact, channel)
    if following is not None:
        row.status, row.channel, row.next_attempt_at = PENDING, following.value, now
        # Attempts count per channel, so the next one starts with a short backoff.
        row.gateway_message_id, row.attempts = None, 0
    else:
        row.status = FAILED
    failed = p.NotificationFailed(
        application_id=row.application_id,
        notification_id=row.id,
        channel=channel,
        failed_at=now,
        reason=reason,
        final=following is None,
        language=language_of(contact),
        message_kind=row.kind,
    )
    events = [_event(topics.NOTIFICATION_FAILED, failed, row)]
    if following is None and contact.lives_alone:
        events.append(_home_visit(row, contact, now))
    return events


def language_of(contact: ContactRow) -> p.Language | None:
    """The language the citizen's messages are written in; None once their contact is erased."""
    return p.Language(contact.language) if contact.language else None


def _home_visit(row: NotificationRow, contact: ContactRow, now: datetime) -> Event:
    language = p.Language(contact.language)
    context = MessageContext(application_ref=application_ref(row.application_id), **row.context)
    message = render(MessageKind(row.kind), language, context)
    request = p.HomeVisitRequested(
        application_id=row.application_id,
        notification_id=row.id,
        district=contact.district,
        language=language,
        message_kind=row.kind,
        text=message.body,
        channels_tried=channels_for(contact),
        requested_at=now,
    )
    return _event(topics.HOME_VISIT_REQUESTED, request, row)


def _event(topic: topics.Topic, payload: p.Payload, row: NotificationRow) -> Event:
    return new_event(topic, payload, producer=NAME, application_id=row.application_id)
