"""Pseudonymous references: a keyed hash stands for a person or an application where their
identity is not needed.

With the key kept secret, a reference cannot be turned back into a FIN or an application id, nor
found by hashing every candidate (FINs are few enough for that without a key). Every service that
makes references is given the same key, so one person or application has one reference throughout.
"""

import hashlib
import hmac
from uuid import UUID

# Domain separation: an application's reference never equals a person's, whatever the inputs.
APPLICATION_DOMAIN = b"socialsvc/public-application-id/v1:"


def pseudonym(value: str, key: bytes) -> str:
    """A stable 32-hex-digit reference for `value` under `key`."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]


def public_application_id(application_id: UUID, key: bytes) -> UUID:
    """The pseudonymous id of an application on public topics: HMAC-SHA256 under `key`, its first
    128 bits shaped as a version-8 UUID (RFC 9562, the custom version). It has the form partners'
    tools expect of an id, while the version digit 8 tells it from our random (version 4) ids."""
    digest = bytearray(hmac.new(key, APPLICATION_DOMAIN + application_id.bytes, "sha256").digest())
    digest[6] = (digest[6] & 0x0F) | 0x80
    digest[8] = (digest[8] & 0x3F) | 0x80
    return UUID(bytes=bytes(digest[:16]))
