"""One delivery attempt, before and after its send, in pure code: the message prepared for its
channel, then the gateway's answer applied to the row (delivered, accepted awaiting a receipt,
again later with a backoff, or on to the next channel) with the events it calls for.

The dispatcher prepares a whole batch, sends it grouped per channel (notifications.sending), and
applies each answer here, so the rules are the same whether a message went alone or with others.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from notifications.breaker import CircuitBreaker
from notifications.delivery import (
    GatewayReceipt,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from notifications.outcomes import channel_failed, delivered
from notifications.routing import channels_for
from notifications.sms import segments
from notifications.store import ACCEPTED, ContactRow, NotificationRow
from notifications.templates import (
    MessageContext,
    MessageKind,
    RenderedMessage,
    application_ref,
    render,
)
from socialsvc_common.contract import payloads as p
from socialsvc_common.contract.envelope import Event
from socialsvc_common.faults import fault_point

MAX_BACKOFF_SECONDS = 300.0
MAX_ATTEMPTS_ON_ERROR = 8

log = structlog.get_logger("dispatcher")


@dataclass(frozen=True)
class Attempt:
    """A message ready to go: its row, its citizen, the channel and the text for that channel."""

    row: NotificationRow
    contact: ContactRow
    channel: p.Channel
    message: RenderedMessage

    @property
    def key(self) -> str:
        """The idempotency key: the message's id, the same for every attempt."""
        return str(self.row.id)

    @property
    def via(self) -> p.Channel:
        """The gateway that carries it: e-mail needs an address, else it goes as an SMS."""
        if self.channel is p.Channel.EMAIL and not self.contact.email:
            return p.Channel.SMS
        return self.channel


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    """Exponential with full jitter, never sooner than the gateway asked."""
    delay = random.uniform(0, min(MAX_BACKOFF_SECONDS, 0.5 * 2**attempts))  # noqa: S311
    return timedelta(seconds=max(delay, retry_after or 0.0))


def channel_of(row: NotificationRow, contact: ContactRow) -> p.Channel:
    """The channel the message goes by now: the one it is on, or the citizen's first."""
    return p.Channel(row.channel) if row.channel else channels_for(contact)[0]


def prepare(row: NotificationRow, contact: ContactRow, channel: p.Channel) -> Attempt:
    """Renders the message for its channel and counts the attempt."""
    context = MessageContext(application_ref=application_ref(row.application_id), **row.context)
    message = render(MessageKind(row.kind), p.Language(contact.language), context)
    row.channel = channel.value
    attempt = Attempt(row, contact, channel, message)
    if attempt.via is p.Channel.SMS:
        row.segments = segments(message.sms)
    row.attempts += 1
    return attempt


def record(
    attempt: Attempt, outcome: GatewayReceipt | Exception, breaker: CircuitBreaker, now: datetime
) -> list[Event]:
    """Applies the gateway's answer for one message to its row and its channel's breaker."""
    row, contact, channel = attempt.row, attempt.contact, attempt.channel
    match outcome:
        case GatewayReceipt():
            breaker.succeeded()
            row.gateway_message_id, row.sent_at = outcome.message_id, now
            if outcome.delivered:
                return delivered(row, contact, channel, now)
            row.status = ACCEPTED  # the gateway's receipt will say how it went
            return []
        case TransientDeliveryError():
            log.debug("gateway failed; will retry", channel=channel.value, error=str(outcome))
            breaker.failed(now)
            row.next_attempt_at = now + backoff(row.attempts, outcome.retry_after)
            row.last_error = str(outcome)
            return []
        case PermanentDeliveryError():
            log.debug("gateway refused message", channel=channel.value, error=str(outcome))
            breaker.succeeded()  # the gateway works; it refused this one message
            return channel_failed(row, contact, channel, str(outcome), now)
        case _:
            return unexpected(row, contact, outcome, breaker, now, counted=True)


def unexpected(
    row: NotificationRow,
    contact: ContactRow,
    error: Exception,
    breaker: CircuitBreaker,
    now: datetime,
    *,
    counted: bool = False,
) -> list[Event]:
    """A message that failed by bad data or a bug: retried a few times, then given up on its
    channel. `counted`: its attempt was counted already (it failed in the send, not before)."""
    row.attempts += 0 if counted else 1
    # A probe that failed this way must not leave its gateway's breaker half-open.
    breaker.failed(now)
    # Only the class is kept: a message may quote the address or the text.
    error_class = type(error).__name__
    log.error("message could not be sent", error_class=error_class, attempts=row.attempts)
    if row.attempts < MAX_ATTEMPTS_ON_ERROR:
        row.last_error = error_class
        row.next_attempt_at = now + backoff(row.attempts, None)
        return []
    return channel_failed(row, contact, channel_of(row, contact), error_class, now)


def after_sends(outcomes: list[GatewayReceipt | Exception]) -> None:
    """The chaos suite's crash point, once for each message a gateway took: they are sent, and
    the commit recording them is not yet made."""
    taken = sum(isinstance(outcome, GatewayReceipt) for outcome in outcomes)
    if taken:
        fault_point("notifications.after_send", taken)
