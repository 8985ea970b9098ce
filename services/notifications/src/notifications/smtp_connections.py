"""Open SMTP connections kept from one message to the next.

A new connection costs a TCP handshake, the relay's greeting and EHLO (and with TLS far more)
before the first byte of a message; kept open, a message costs MAIL, RCPT and DATA only. smtplib
blocks, so messages are sent from worker threads: each takes a connection for one message and
gives it back, and the pool is shared under a lock.
"""

import smtplib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# Relays close connections left idle (Postfix after 300 s, aiosmtpd's default too); one idle longer
# than this is closed rather than tried.
IDLE_SECONDS = 60.0
MAX_IDLE = 16


@dataclass(frozen=True, slots=True)
class Mail:
    """A mail as the relay takes it: its envelope (one sender, one recipient) and its bytes."""

    sender: str
    to: str
    message_id: str
    data: bytes


class SmtpConnections:
    """A pool of open connections to one relay, made by `connect` as needed.

    A connection goes back to the pool after a clean send and is closed after any error, as its
    state is then unknown. A pooled connection the relay has dropped meanwhile (it says so at the
    first command) is replaced by a new one and the message sent on that, once; a resend after a
    drop is harmless, as a message keeps its Message-ID and the relay recognises a repeat."""

    def __init__(
        self,
        connect: Callable[[], smtplib.SMTP],
        *,
        max_idle: int = MAX_IDLE,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self._connect = connect
        self._max_idle = max_idle
        self._idle_seconds = idle_seconds
        self._idle: list[tuple[smtplib.SMTP, float]] = []
        self._lock = threading.Lock()
        self._closed = False

    def send(self, mail: Mail) -> None:
        """Sends one mail on a pooled connection, or a new one; raises what smtplib raises."""
        smtp, reused = self._take()
        try:
            _send_on(smtp, mail)
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            if not reused:
                raise
            smtp = self._connect()
            _send_on(smtp, mail)
        self._give_back(smtp)

    def close(self) -> None:
        """Says goodbye on every idle connection; connections in use are closed when given back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for smtp, _ in idle:
            _quit(smtp)

    def _take(self) -> tuple[smtplib.SMTP, bool]:
        stale = []
        found: smtplib.SMTP | None = None
        with self._lock:
            while self._idle and found is None:
                smtp, since = self._idle.pop()
                if time.monotonic() - since < self._idle_seconds:
                    found = smtp
                else:
                    stale.append(smtp)
        for smtp in stale:
            smtp.close()
        return (found, True) if found is not None else (self._connect(), False)

    def _give_back(self, smtp: smtplib.SMTP) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self._max_idle:
                self._idle.append((smtp, time.monotonic()))
                return
        _quit(smtp)


def _send_on(smtp: smtplib.SMTP, mail: Mail) -> None:
    try:
        smtp.sendmail(mail.sender, [mail.to], mail.data)
    except BaseException:
        smtp.close()
        raise


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()  # the relay is gone already; only our end is left to close
