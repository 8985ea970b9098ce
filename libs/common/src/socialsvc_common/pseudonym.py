"""Pseudonymous references: a keyed hash stands for a person where their identity is not needed.

With the key kept secret, the reference cannot be turned back into a FIN nor guessed by hashing
all possible FINs (there are few enough for that without a key).
"""

import hashlib
import hmac


def pseudonym(value: str, key: bytes) -> str:
    """A stable 32-hex-digit reference for `value` under `key`."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]
