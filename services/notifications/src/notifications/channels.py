"""Adapters to the channel gateways: SMS and the e-gov inbox over HTTP
(notifications.http_gateways), e-mail over SMTP (here).

Every call carries an idempotency key derived from the event, so a retry reaches the provider as
the same message, never a second one. Failures are sorted into two types the caller acts on
(notifications.delivery): TransientDeliveryError (try again later, with the same key) and
PermanentDeliveryError (retrying cannot help; record the failure).
"""

import asyncio
import base64
import hashlib
import smtplib
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime

from notifications.delivery import (
    DeliveryError,
    GatewayReceipt,
    Outcome,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from notifications.http_gateways import (
    HTTP_TIMEOUT,
    HttpGateway,
    InboxGateway,
    OutgoingMessage,
    SmsGateway,
)
from notifications.smtp_connections import IDLE_SECONDS, Mail, SmtpConnections

__all__ = [
    "HTTP_TIMEOUT",
    "DeliveryError",
    "EmailGateway",
    "GatewayReceipt",
    "HttpGateway",
    "InboxGateway",
    "Outcome",
    "OutgoingMessage",
    "PermanentDeliveryError",
    "SmsGateway",
    "TransientDeliveryError",
    "compose_email",
    "message_id",
    "smtp_error",
]

SMTP_TIMEOUT_SECONDS = 10.0


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
        mail = compose_email(self._sender, to, subject, body, idempotency_key)
        await asyncio.to_thread(self._deliver, mail)
        # SMTP has no receipts to wait for: the relay's acceptance is as far as we can know.
        return GatewayReceipt(message_id=mail.message_id, status="delivered")

    async def close(self) -> None:
        """Closes the connections kept open; a message sent later opens a new one."""
        await asyncio.to_thread(self._connections.close)

    def _connect(self) -> smtplib.SMTP:
        return smtplib.SMTP(
            self._host, self._port, timeout=self._timeout, local_hostname=self._local_hostname
        )

    def _deliver(self, mail: Mail) -> None:
        try:
            self._connections.send(mail)
        except (smtplib.SMTPException, OSError) as exc:
            raise smtp_error(exc) from exc


def message_id(idempotency_key: str, sender: str) -> str:
    """The Message-ID of every attempt at one notification: the same key gives the same id, so a
    resend is recognisable by the relay and the reader. Hashed, as keys may hold any character."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<{digest}@{domain}>"


def compose_email(sender: str, to: str, subject: str, body: str, idempotency_key: str) -> Mail:
    """A plain-text UTF-8 message: the body in base64, the subject as RFC 2047 encoded words.

    Written out as bytes here, not built as an email.message for smtplib to flatten and read the
    addresses back from: every mail has this one shape, and building, flattening and parsing cost
    about half of a mail's CPU in the service. The lines are CRLF and ASCII, the subject folded
    and the body's base64 in lines of 76. Addresses are ASCII (the contract's pattern), with no
    line breaks to carry another header."""
    identity = message_id(idempotency_key, sender)
    headers = (
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {Header(subject, 'utf-8', header_name='Subject').encode(linesep=smtplib.CRLF)}",
        f"Message-ID: {identity}",
        f"Date: {format_datetime(datetime.now(UTC))}",
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: base64",
    )
    text = base64.encodebytes(body.encode()).replace(b"\n", b"\r\n")
    head = (smtplib.CRLF.join(headers) + smtplib.CRLF * 2).encode("ascii")
    return Mail(sender, to, identity, head + text)


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
        # The relay lacks an extension a command needs; only configuration helps.
        return PermanentDeliveryError("email", type(exc).__name__)
    return TransientDeliveryError("email", type(exc).__name__)
