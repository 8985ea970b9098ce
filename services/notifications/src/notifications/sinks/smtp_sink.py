"""A local SMTP server (aiosmtpd) that keeps every mail as a JSON line instead of delivering it.

A mail whose Message-ID it has already stored is accepted and not stored again: EmailGateway
derives the Message-ID from the idempotency key, so this is how a resend shows up as one letter.
Like a provider's mailbox simulator, it refuses every recipient at BOUNCE_DOMAIN with a permanent
550, so the refusal path can be tried with a real SMTP conversation.
"""

import json
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import structlog
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

log = structlog.get_logger("notifications.sinks.smtp")

LOOPBACK = "127.0.0.1"
BOUNCE_DOMAIN = "bounce.example.az"
# compat32, the email package's default: headers stay strings until asked for. The default
# policy's header objects parsed every header of every mail, most of the stand-ins' CPU at
# 100 applications a second; only the Subject needs decoding, and it is decoded alone.
PARSER = BytesParser()


class MailSink:
    """aiosmtpd handler: parses each mail and appends it to `store_path` once per Message-ID."""

    def __init__(self, store_path: Path) -> None:
        self.store_path = store_path
        store_path.parent.mkdir(parents=True, exist_ok=True)
        self.seen: set[str] = set()
        if store_path.exists():
            for line in store_path.read_text(encoding="utf-8").splitlines():
                if line.strip() and (known := json.loads(line).get("message_id")):
                    self.seen.add(known)

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.rpartition("@")[2].lower() == BOUNCE_DOMAIN:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        mail = PARSER.parsebytes(envelope.original_content or b"")
        message_id = str(mail.get("Message-ID", "")).strip()
        if message_id and message_id in self.seen:
            log.info("mail repeat ignored", message_id=message_id)
            return "250 OK (already received)"
        # Written synchronously on purpose: with no await between the check above and the append,
        # two deliveries of one Message-ID cannot both be stored. This loop serves nobody else.
        self._append(_record(mail, message_id, envelope))
        if message_id:
            self.seen.add(message_id)
        log.debug("mail stored", message_id=message_id)
        return "250 OK"

    def _append(self, record: dict[str, Any]) -> None:
        with self.store_path.open("a", encoding="utf-8") as file:
            file.write(json.dumps(record, ensure_ascii=False) + "\n")


def _record(mail: Message, message_id: str, envelope: Envelope) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "from": envelope.mail_from,
        "to": list(envelope.rcpt_tos),
        "subject": subject_of(mail),
        "body": plain_text(mail),
        "received_at": datetime.now(UTC).isoformat(),
    }


def subject_of(mail: Message) -> str:
    """The Subject, its RFC 2047 encoded words decoded and its folds undone."""
    return str(make_header(decode_header(mail.get("Subject", ""))))


def plain_text(mail: Message) -> str:
    """The mail's first plain-text part that is not an attachment, decoded; empty without one."""
    for part in mail.walk():
        if part.get_content_type() == "text/plain" and not part.get("Content-Disposition"):
            payload = part.get_payload(decode=True)
            charset = part.get_content_charset() or "us-ascii"
            return payload.decode(charset, errors="replace") if isinstance(payload, bytes) else ""
    return ""


def start_smtp_sink(store_path: Path, port: int, host: str = LOOPBACK) -> Controller:
    """Starts the SMTP sink on `host`:`port` in its own thread; returns once it answers."""
    controller = Controller(
        MailSink(store_path),
        hostname=host,
        port=port,
        # Named explicitly: the default looks up this host's FQDN, which can stall without DNS.
        server_hostname="localhost",
    )
    controller.start()
    return controller


def stop_smtp_sink(controller: Controller) -> None:
    """Stops the server and its thread."""
    controller.stop()
