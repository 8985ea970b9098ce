"""Adapters to the channel gateways: SMS and the e-gov inbox over HTTP, e-mail over SMTP.

Every call carries an idempotency key derived from the event, so a retry reaches the provider as
the same message, never a second one. Failures are sorted into two types the caller acts on:
TransientDeliveryError (try again later, with the same key) and PermanentDeliveryError (retrying
cannot help; record the failure). Error texts name statuses and error classes, never the recipient.
"""

import asyncio
import hashlib
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import httpx

from notifications.smtp_connections import IDLE_SECONDS, SmtpConnections

# Explicit, never the client's defaults: a gateway that hangs must not hold a consumer for long.
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
SMTP_TIMEOUT_SECONDS = 10.0

# Client errors that mean "not now" rather than "never".
_RETRYABLE_4XX = frozenset({408, 425, 429})


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


class HttpGateway:
    """A provider's HTTP API: POST {base_url}/messages with a JSON body and an Idempotency-Key.

    The answer's status says how far the message got: "delivered" is final; "accepted" (or
    "queued") means the provider will report delivery later through a receipt callback."""

    def __init__(
        self,
        channel: str,
        base_url: str,
        client: httpx.AsyncClient,
        *,
        timeout: httpx.Timeout = HTTP_TIMEOUT,
    ) -> None:
        self.channel = channel
        self._url = base_url.rstrip("/") + "/messages"
        self._client = client
        self._timeout = timeout

    async def post(self, body: dict[str, str], idempotency_key: str) -> GatewayReceipt:
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


class SmsGateway(HttpGateway):
    """An SMS provider: {"to", "text"}."""

    def __init__(
        self, base_url: str, client: httpx.AsyncClient, *, timeout: httpx.Timeout = HTTP_TIMEOUT
    ) -> None:
        super().__init__("sms", base_url, client, timeout=timeout)

    async def send(self, to: str, text: str, idempotency_key: str) -> GatewayReceipt:
        return await self.post({"to": to, "text": text}, idempotency_key)


class InboxGateway(HttpGateway):
    """The e-government portal's inbox: a message to the person's account, found by FIN."""

    def __init__(
        self, base_url: str, client: httpx.AsyncClient, *, timeout: httpx.Timeout = HTTP_TIMEOUT
    ) -> None:
        super().__init__("egov_inbox", base_url, client, timeout=timeout)

    async def send(self, fin: str, subject: str, body: str, idempotency_key: str) -> GatewayReceipt:
        return await self.post({"fin": fin, "subject": subject, "body": body}, idempotency_key)


def _http_receipt(channel: str, response: httpx.Response) -> GatewayReceipt:
    status = response.status_code
    if status >= 500 or status in _RETRYABLE_4XX:
        raise TransientDeliveryError(
            channel, f"gateway answered {status}", retry_after=_retry_after(response)
        )
    if not 200 <= status < 300:
        raise PermanentDeliveryError(channel, f"gateway answered {status}")
    try:
        answer = response.json()
        return GatewayReceipt(message_id=str(answer["message_id"]), status=str(answer["status"]))
    except (ValueError, KeyError, TypeError) as exc:
        # The gateway took the message but its answer is unreadable; a retry with the same key
        # gets the stored answer again without sending twice.
        raise TransientDeliveryError(channel, f"unreadable {status} answer") from exc


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


class EmailGateway:
    """An SMTP relay. smtplib blocks, so each message is sent from a worker thread, on one of a
    few connections kept open between messages (notifications.smtp_connections)."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        timeout: float = SMTP_TIMEOUT_SECONDS,
        local_hostname: str | None = None,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._timeout = timeout
        self._local_hostname = local_hostname
        self._connections = SmtpConnections(self._connect, idle_seconds=idle_seconds)

    async def send(self, to: str, subject: str, body: str, idempotency_key: str) -> GatewayReceipt:
        message = compose_email(self._sender, to, subject, body, idempotency_key)
        await asyncio.to_thread(self._deliver, message)
        # SMTP has no receipts to wait for: the relay's acceptance is as far as we can know.
        return GatewayReceipt(message_id=str(message["Message-ID"]), status="delivered")

    async def close(self) -> None:
        """Closes the connections kept open; a message sent later opens a new one."""
        await asyncio.to_thread(self._connections.close)

    def _connect(self) -> smtplib.SMTP:
        return smtplib.SMTP(
            self._host, self._port, timeout=self._timeout, local_hostname=self._local_hostname
        )

    def _deliver(self, message: EmailMessage) -> None:
        try:
            self._connections.send(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise smtp_error(exc) from exc


def message_id(idempotency_key: str, sender: str) -> str:
    """The Message-ID of every attempt at one notification: the same key gives the same id, so a
    resend is recognisable by the relay and the reader. Hashed, as keys may hold any character."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<{digest}@{domain}>"


def compose_email(
    sender: str, to: str, subject: str, body: str, idempotency_key: str
) -> EmailMessage:
    """A plain-text UTF-8 message; headers are encoded as RFC 2047 where needed."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id(idempotency_key, sender)
    message["Date"] = format_datetime(datetime.now(UTC))
    message.set_content(body, charset="utf-8")
    return message


def smtp_error(exc: Exception) -> DeliveryError:
    """SMTP replies 5xx are permanent; 4xx replies, lost connections and timeouts are transient."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        kind = PermanentDeliveryError if codes and min(codes) >= 500 else TransientDeliveryError
        return kind("email", f"recipient refused ({', '.join(map(str, codes))})")
    if isinstance(exc, smtplib.SMTPResponseException):
        kind = PermanentDeliveryError if exc.smtp_code >= 500 else TransientDeliveryError
        return kind("email", f"{type(exc).__name__} {exc.smtp_code}")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        # The relay lacks an extension the message needs (SMTPUTF8); only configuration helps.
        return PermanentDeliveryError("email", type(exc).__name__)
    return TransientDeliveryError("email", type(exc).__name__)
