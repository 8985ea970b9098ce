"""Logging for every service: structlog, JSON off a terminal, personal data redacted.

Standard-library records (FastStream, aiokafka, uvicorn) pass through the same processors, so the
redaction applies to every line a service writes, whoever wrote it.
"""

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[REDACTED]"

# Keys whose values are personal data whatever they look like.
PERSONAL_KEYS = frozenset(
    {
        "fin",
        "name",
        "first_name",
        "last_name",
        "patronymic",
        "full_name",
        "birth_date",
        "phone",
        "mobile_phone",
        "email",
        "address",
        "password",
        "api_key",
        "x-api-key",
        "x_api_key",
        "authorization",
        "cookie",
        "token",
        "secret",
        "pseudonym_key",
    }
)

# Fields the logging machinery writes itself; their text is never personal data (and an ISO
# timestamp's "123456Z" would otherwise look like a FIN).
MACHINE_KEYS = frozenset({"timestamp", "level", "logger"})

# A FIN: 7 digits and upper-case Latin letters. Requiring both a letter and a digit keeps ordinary
# upper-case words (PENDING) and 7-digit figures (offsets, counts) readable; the fraction of an ISO
# time in UTC ("12:59:59.084357Z") is not one either.
_FIN = re.compile(
    r"(?<![0-9A-Za-z])(?<![0-9][.:])(?=[A-Z]*[0-9])(?=[0-9]*[A-Z])[0-9A-Z]{7}(?![0-9A-Za-z])"
)
# +994, a two-digit operator code and seven digits, with the usual separators.
_PHONE = re.compile(r"(?<!\d)\+?994[\s\-().]*\d{2}[\s\-().]*\d{3}[\s\-]*\d{2}[\s\-]*\d{2}(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# Secrets in free text: one of our API keys (socialsvc_common.apikeys), or whatever follows
# "Bearer" (an Authorization header quoted in an error message).
_SECRET = re.compile(r"ssk_[A-Za-z0-9_\-]+|(?i:bearer)\s+[A-Za-z0-9._~+/\-]+=*")


def redact_text(text: str) -> str:
    """Masks API keys, bearer tokens, FINs, +994 phone numbers and e-mail addresses in text."""
    text = _SECRET.sub(REDACTED, text)
    text = _EMAIL.sub(REDACTED, text)
    text = _PHONE.sub(REDACTED, text)
    return _FIN.sub(REDACTED, text)


def _redact_value(key: str | None, value: Any) -> Any:
    if key is not None and key.lower() in PERSONAL_KEYS and value is not None:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(None, v) for v in value]
    if isinstance(value, BaseException):
        return redact_text(repr(value))
    return value


def redact_personal_data(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: replaces personal data in every field of the event with [REDACTED]."""
    return {
        key: value if key in MACHINE_KEYS else _redact_value(key, value)
        for key, value in event_dict.items()
    }


class RepeatFilter(logging.Filter):
    """Lets a library's warning through once per `interval` seconds per message template, noting
    how many were held back. While the broker is down aiokafka warns about every reconnect attempt
    of every client, thousands of lines a second that drown everything else."""

    def __init__(self, prefixes: tuple[str, ...], interval: float = 10.0) -> None:
        super().__init__()
        self._prefixes = prefixes
        self._interval = interval
        self._last: dict[tuple[str, object], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self._prefixes):
            return True
        key = (record.name, record.msg)
        shown_at, held = self._last.get(key, (float("-inf"), 0))
        if record.created - shown_at < self._interval:
            self._last[key] = (shown_at, held + 1)
            return False
        if held:
            record.repeated_meanwhile = held
        self._last[key] = (record.created, 0)
        return True


def configure_logging(
    service: str, *, level: str = "INFO", json: bool | None = None
) -> structlog.stdlib.BoundLogger:
    """Configures structlog and the standard library for one service and returns its logger."""
    render_json = (not sys.stderr.isatty()) if json is None else json
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if render_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        # FastStream passes its context (topic, group, message id) as `extra`.
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_personal_data,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(RepeatFilter(("aiokafka",)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries that bring their own handler (FastStream's "faststream" logger does) would write
    # around the redaction; route every one of them through the root handler instead.
    for name in list(logging.root.manager.loggerDict):
        existing = logging.getLogger(name)
        if existing.handlers:
            existing.handlers.clear()
            existing.propagate = True
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
    # httpx writes a line per request at INFO (one per message sent through a gateway); failed
    # deliveries are logged by the services themselves.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))

    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(service)
    return logger
