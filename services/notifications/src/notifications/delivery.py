"""What a gateway answers for one message: a receipt, or one of two errors the caller acts on.

TransientDeliveryError means try again later with the same idempotency key; PermanentDeliveryError
means retrying cannot help. Error texts name statuses and error classes, never the recipient."""

from dataclasses import dataclass
from typing import TypeAlias


class DeliveryError(Exception):
    """A message did not reach the channel's provider."""

    def __init__(self, channel: str, detail: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"{channel}: {detail}")
        self.channel = channel
        self.detail = detail
        self.retry_after = retry_after


class TransientDeliveryError(DeliveryError):
    """The provider may accept the same message later (overload, timeout, connection lost)."""


class PermanentDeliveryError(DeliveryError):
    """The provider refused the message; sending it again will not change the answer."""


@dataclass(frozen=True)
class GatewayReceipt:
    message_id: str
    status: str

    @property
    def delivered(self) -> bool:
        """Whether the provider says the message arrived; otherwise a receipt will tell."""
        return self.status == "delivered"


# What a batch send gives back for each of its messages, in order.
Outcome: TypeAlias = "GatewayReceipt | DeliveryError"

# Client errors that mean "not now" rather than "never".
RETRYABLE_4XX = frozenset({408, 425, 429})


def status_error(channel: str, status: int, retry_after: float | None = None) -> DeliveryError:
    """The error an HTTP-like status other than 2xx stands for: 5xx and 408/425/429 are transient,
    every other one permanent."""
    if status >= 500 or status in RETRYABLE_4XX:
        return TransientDeliveryError(
            channel, f"gateway answered {status}", retry_after=retry_after
        )
    return PermanentDeliveryError(channel, f"gateway answered {status}")
