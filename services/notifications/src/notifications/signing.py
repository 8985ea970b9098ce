"""How gateways sign delivery receipts: HMAC-SHA256 of the raw body with a shared secret, sent as
"sha256=<hex>" in X-Signature. Kept apart from the receipt API so the local sinks can sign without
loading the service."""

import hashlib
import hmac

SIGNATURE_HEADER = "X-Signature"
# Shared with the local sinks (python -m notifications.sinks), which sign their receipts with it;
# production refuses it (NotificationsSettings).
DEVELOPMENT_RECEIPT_SECRET = "development-receipt-secret"  # noqa: S105


def sign(secret: bytes, body: bytes) -> str:
    """The X-Signature value of a receipt body."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signed_by(secret: bytes, body: bytes, signature: str | None) -> bool:
    """Whether `signature` is the secret's signature of `body` (compared in constant time)."""
    return signature is not None and hmac.compare_digest(signature, sign(secret, body))
