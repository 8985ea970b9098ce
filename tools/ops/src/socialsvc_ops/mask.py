"""Masking personal data in event payloads before anything is shown.

The keys and the free-text patterns are the ones the services' log redaction uses
(socialsvc_common.logs); times are left readable, since an ISO time ending in "Z" would otherwise
look like a FIN.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from socialsvc_common.logs import PERSONAL_KEYS, REDACTED, redact_text


def _is_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return "T" in text


def mask(value: Any, key: str | None = None) -> Any:
    """`value` with every personal field replaced by [REDACTED], and FINs, phone numbers and
    e-mail addresses masked inside any other text."""
    if key is not None and key.lower() in PERSONAL_KEYS and value is not None:
        return REDACTED
    if isinstance(value, str):
        return value if _is_time(value) else redact_text(value)
    if isinstance(value, Mapping):
        return {str(k): mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    return value
