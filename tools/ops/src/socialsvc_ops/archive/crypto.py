"""Envelope encryption of archived records: a random data key per application seals its records
(AES-256-GCM), and the master key wraps every data key. Deleting an application's data key
(crypto-shredding) leaves its records unreadable for good, wherever copies of the rows went."""

import base64
import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12
KEY_BYTES = 32
_MASTER_INFO = b"socialsvc archive master key v1"


class Unreadable(ValueError):
    """A sealed record or wrapped key that does not open: wrong key, or altered bytes."""


@dataclass(frozen=True, slots=True)
class Sealed:
    """A record as it was on the broker, before sealing and after opening."""

    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]


def _seal(key: bytes, plaintext: bytes, bound_to: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, bound_to)


def _open(key: bytes, sealed: bytes, bound_to: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], bound_to)
    except InvalidTag as error:
        raise Unreadable("the bytes do not open with this key") from error


class MasterKey:
    """Wraps and unwraps data keys. The AES key is derived from the configured secret (HKDF), so
    any long random string serves; a wrapped key opens only for the subject it was made for."""

    def __init__(self, secret: bytes) -> None:
        self._key = HKDF(
            algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=_MASTER_INFO
        ).derive(secret)

    @staticmethod
    def new_data_key() -> bytes:
        return AESGCM.generate_key(bit_length=KEY_BYTES * 8)

    def wrap(self, data_key: bytes, subject: str) -> bytes:
        return _seal(self._key, data_key, subject.encode())

    def unwrap(self, wrapped: bytes, subject: str) -> bytes:
        return _open(self._key, wrapped, subject.encode())


def _b64(value: bytes | None) -> str | None:
    return None if value is None else base64.b64encode(value).decode()


def _bytes(value: str | None) -> bytes | None:
    return None if value is None else base64.b64decode(value)


def seal_record(data_key: bytes, record: Sealed, bound_to: str) -> bytes:
    """The record's key, value and headers encrypted; `bound_to` (topic and event id) must be
    given again to open it, so a sealed blob moved to another row does not open."""
    plaintext = json.dumps(
        {
            "key": _b64(record.key),
            "value": _b64(record.value),
            "headers": [[name, _b64(value)] for name, value in record.headers],
        }
    ).encode()
    return _seal(data_key, plaintext, bound_to.encode())


def open_record(data_key: bytes, sealed: bytes, bound_to: str) -> Sealed:
    found = json.loads(_open(data_key, sealed, bound_to.encode()))
    return Sealed(
        key=_bytes(found["key"]),
        value=_bytes(found["value"]),
        headers=tuple((name, _bytes(value)) for name, value in found["headers"]),
    )
