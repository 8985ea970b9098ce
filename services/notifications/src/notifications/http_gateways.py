"""The HTTP gateways (SMS, the e-gov inbox), one message to a request or many.

Protocol, as bulk SMS providers offer it:
- `POST {base}/messages`: one message as a JSON object, its key in the `Idempotency-Key` header;
  a 2xx answer is `{"message_id", "status": "delivered" | "accepted" | "queued"}`, any other
  status an error of the whole message.
- `POST {base}/messages/batch`: a JSON array of up to MAX_BATCH messages, each the same object
  with its own `idempotency_key` field; answered 200 with an array, in the request's order, of
  `{"idempotency_key", "status": <HTTP-like code>, "message_id", "state"}` for a message taken,
  or `{"idempotency_key", "status": <4xx|5xx>, "error"}` for one that was not. A repeated key is
  answered as the first time (the gateway stores its first answer), in either form.

"delivered" is final; "accepted" (or "queued") means the provider reports delivery later through
a receipt. A request that fails as a whole (transport error, 5xx, 408/425/429) leaves every
message of it to be tried again with the same keys; a 4xx item is refused for good, a 5xx or 429
item may be tried again. A gateway without the batch endpoint is used with `batch=False`: then
`send_many` posts its messages one by one, in order.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from notifications.delivery import (
    DeliveryError,
    GatewayReceipt,
    Outcome,
    TransientDeliveryError,
    status_error,
)

# Explicit, never the client's defaults: a gateway that hangs must not hold a consumer for long.
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
MAX_BATCH = 500


@dataclass(frozen=True)
class OutgoingMessage:
    """One message for a gateway: its fields as the gateway takes them, and its idempotency key."""

    key: str
    fields: dict[str, str]


class HttpGateway:
    """A provider's HTTP API (see the module docstring for the protocol); a subclass names its
    channel."""

    channel: ClassVar[str]

    def __init__(
        self,
        base_url: str,
        client: httpx.AsyncClient,
        *,
        timeout: httpx.Timeout = HTTP_TIMEOUT,
        batch: bool = True,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self.batch = batch
        self._url = base_url.rstrip("/") + "/messages"
        self._client = client
        self._timeout = timeout
        self._max_batch = max_batch

    async def post(self, body: dict[str, str], idempotency_key: str) -> GatewayReceipt:
        """Sends one message by itself; raises DeliveryError when it was not taken."""
        try:
            response = await self._client.post(
                self._url,
                json=body,
                headers={"Idempotency-Key": idempotency_key},
                timeout=self._timeout,
            )
        except httpx.TransportError as exc:  # connection refused or reset, timeouts
            raise TransientDeliveryError(self.channel, type(exc).__name__) from exc
        return _http_receipt(self.channel, response)

    async def send_many(self, messages: Sequence[OutgoingMessage]) -> list[Outcome]:
        """Sends messages in order, MAX_BATCH to a request (or one by one without the batch
        endpoint); returns each message's receipt or error, in the same order. Never raises a
        DeliveryError: a failed request gives every message in it that error."""
        outcomes: list[Outcome] = []
        step = self._max_batch if self.batch else 1
        # Chunks go one after another, so a citizen's messages keep their order across chunks.
        for start in range(0, len(messages), step):
            chunk = messages[start : start + step]
            outcomes += await (self._post_batch(chunk) if self.batch else self._post_one(chunk[0]))
        return outcomes

    async def _post_one(self, message: OutgoingMessage) -> list[Outcome]:
        try:
            return [await self.post(message.fields, message.key)]
        except DeliveryError as error:
            return [error]

    async def _post_batch(self, chunk: Sequence[OutgoingMessage]) -> list[Outcome]:
        body = [{"idempotency_key": m.key, **m.fields} for m in chunk]
        try:
            response = await self._client.post(
                self._url + "/batch", json=body, timeout=self._timeout
            )
        except httpx.TransportError as exc:
            return [TransientDeliveryError(self.channel, type(exc).__name__)] * len(chunk)
        if not response.is_success:
            return [status_error(self.channel, response.status_code, _retry_after(response))] * len(
                chunk
            )
        return _batch_outcomes(self.channel, chunk, response)


class SmsGateway(HttpGateway):
    """An SMS provider: {"to", "text"}."""

    channel = "sms"

    @staticmethod
    def message(to: str, text: str, idempotency_key: str) -> OutgoingMessage:
        """An SMS as send_many takes it."""
        return OutgoingMessage(idempotency_key, {"to": to, "text": text})

    async def send(self, to: str, text: str, idempotency_key: str) -> GatewayReceipt:
        """Sends one SMS by itself (POST /messages)."""
        return await self.post(self.message(to, text, idempotency_key).fields, idempotency_key)


class InboxGateway(HttpGateway):
    """The e-government portal's inbox: a message to the person's account, found by FIN."""

    channel = "egov_inbox"

    @staticmethod
    def message(fin: str, subject: str, body: str, idempotency_key: str) -> OutgoingMessage:
        """An inbox message as send_many takes it."""
        return OutgoingMessage(idempotency_key, {"fin": fin, "subject": subject, "body": body})

    async def send(self, fin: str, subject: str, body: str, idempotency_key: str) -> GatewayReceipt:
        """Sends one inbox message by itself (POST /messages)."""
        message = self.message(fin, subject, body, idempotency_key)
        return await self.post(message.fields, idempotency_key)


def _http_receipt(channel: str, response: httpx.Response) -> GatewayReceipt:
    if not response.is_success:
        raise status_error(channel, response.status_code, _retry_after(response))
    try:
        answer = response.json()
        return GatewayReceipt(message_id=str(answer["message_id"]), status=str(answer["status"]))
    except (ValueError, KeyError, TypeError) as exc:
        # The gateway took the message but its answer is unreadable; a retry with the same key
        # gets the stored answer again without sending twice.
        raise TransientDeliveryError(channel, f"unreadable {response.status_code} answer") from exc


def _batch_outcomes(
    channel: str, chunk: Sequence[OutgoingMessage], response: httpx.Response
) -> list[Outcome]:
    try:
        answers = response.json()
    except ValueError:
        answers = None
    if not isinstance(answers, list) or len(answers) != len(chunk):
        # Taken or not, nobody can tell which: the same keys again get the stored answers.
        unreadable = TransientDeliveryError(channel, f"unreadable {response.status_code} answer")
        return [unreadable] * len(chunk)
    return [_item_outcome(channel, m, a) for m, a in zip(chunk, answers, strict=True)]


def _item_outcome(channel: str, message: OutgoingMessage, answer: Any) -> Outcome:
    try:
        if answer["idempotency_key"] != message.key:
            return TransientDeliveryError(channel, "answer out of order")
        status = int(answer["status"])
        if not 200 <= status < 300:
            return status_error(channel, status)
        return GatewayReceipt(message_id=str(answer["message_id"]), status=str(answer["state"]))
    except (KeyError, TypeError, ValueError):
        return TransientDeliveryError(channel, "unreadable answer")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None
