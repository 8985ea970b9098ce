"""API keys: who may call the HTTP APIs, in which role. The store keeps only each key's hash.

A key is `ssk_` and 43 URL-safe characters from `secrets` (256 random bits). The prefix lets
secret scanners and the log redaction recognise a key that leaked into text.

Why a plain SHA-256 and not scrypt or a keyed hash: slow, salted hashes exist to protect
low-entropy secrets (passwords) from guessing. Nobody can guess 256 random bits, however fast the
hash, so a stolen store reveals nothing usable; a slow hash would cost tens of milliseconds of CPU
on every request (a lever for a denial of service) and protect against nothing here. A keyed hash
would add a second secret to keep and rotate, again for no gain. One digest per key also makes the
lookup a dictionary access; its timing can only reveal the digest of the caller's own guess.

The store is a JSON-lines file, one key per line: `{"name", "role", "sha256", "issued_at"}`, and
the key's scope where its role has one: a social worker's `districts` (the geography's spelling;
none means every district), a provider's `provider` (its registry id, required).
"""

import contextlib
import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from socialsvc_common.geography import UnknownUnit, load_geography

KEY_PREFIX = "ssk_"
KEY_PATTERN = re.compile(r"^ssk_[A-Za-z0-9_\-]{43}$")
_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")
# The provider registry's id shape (assignment.registry.ProviderId).
_PROVIDER = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
PROVIDER_ID_LENGTH = 64


class Role(StrEnum):
    """What a caller is. An administrator may do everything."""

    SUBMITTER = "submitter"  # a submitting system such as the e-government gateway
    SOCIAL_WORKER = "social_worker"
    OPERATOR = "operator"
    ADMINISTRATOR = "administrator"
    REVIEWER = "reviewer"  # decides appeals against decisions
    # The e-government portal, acting for a citizen it has authenticated: it names the citizen's
    # FIN in each request and is answered only about that citizen's applications.
    CITIZEN_PORTAL = "citizen_portal"
    # A provider (an NGO's project, an institution, a home-care team): its own offers,
    # placements and services delivered, and nothing of any other provider.
    PROVIDER = "provider"
    # A metrics scraper such as Prometheus: GET /metrics of every service, and nothing else.
    MONITOR = "monitor"


# Every role but the scraper's: what any known caller of an API may read (its description).
PEOPLE_AND_SYSTEMS = frozenset(Role) - {Role.MONITOR}

# How long an actor (`<role>:<name>`, contract.actor) may be: the width of the columns that store
# one. A name is 1-64 characters, and one character shorter in the role longer than the others.
ACTOR_LENGTH = 78


def longest_name(role: Role) -> int:
    """How long a key's name may be in `role`, so that its actor fits ACTOR_LENGTH."""
    return min(64, ACTOR_LENGTH - len(role.value) - 1)


class KeyStoreError(ValueError):
    """The key store cannot be read or has a bad entry; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Caller:
    """The holder of a key the store knows."""

    name: str
    role: Role
    issued_at: datetime
    # A social worker's districts (empty: every district); a provider key's provider id.
    districts: frozenset[str] = frozenset()
    provider: str | None = None

    def serves(self, district: str) -> bool:
        """Whether the holder may see and act on a case of `district`."""
        return not self.districts or district in self.districts


def digest(key: str) -> str:
    """The SHA-256 hex digest under which a key is stored."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A fresh key: the prefix and 256 random bits, URL-safe."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


class KeyStore:
    """The known keys, by digest."""

    def __init__(self, callers: dict[str, Caller] | None = None) -> None:
        self._by_digest = dict(callers or {})

    def __len__(self) -> int:
        return len(self._by_digest)

    def __iter__(self) -> Iterator[Caller]:
        return iter(self._by_digest.values())

    def identify(self, key: str) -> Caller | None:
        """The caller holding `key`, or None for a key that is malformed or unknown."""
        if not KEY_PATTERN.match(key):
            return None
        return self._by_digest.get(digest(key))

    @classmethod
    def load(cls, path: Path) -> "KeyStore":
        """Reads and validates a store file; KeyStoreError names the first bad line."""
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise KeyStoreError(f"cannot read the API key store {path}: {error}") from error
        callers: dict[str, Caller] = {}
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                sha, caller = _entry(line)
            except (ValueError, TypeError, KeyError) as error:
                raise KeyStoreError(f"{path}:{number}: {error}") from None
            if sha in callers:
                raise KeyStoreError(f"{path}:{number}: the same key is stored twice")
            callers[sha] = caller
        return cls(callers)


def _entry(line: str) -> tuple[str, Caller]:
    entry = json.loads(line)
    if not isinstance(entry, dict):
        raise ValueError("each line must be a JSON object")
    sha, name = str(entry["sha256"]), str(entry["name"])
    if not _DIGEST.match(sha):
        raise ValueError("sha256 must be 64 lower-case hex digits")
    if not _NAME.match(name):
        raise ValueError(f"name {name!r} must be 1-64 letters, digits, '.', '_' or '-'")
    try:
        role = Role(entry["role"])
    except ValueError:
        raise ValueError(f"unknown role; one of {', '.join(Role)}") from None
    if len(name) > longest_name(role):
        raise ValueError(f"a name in the role {role} has at most {longest_name(role)} characters")
    issued_at = datetime.fromisoformat(str(entry["issued_at"]))
    districts, provider = scope(role, entry.get("districts", []), entry.get("provider"))
    return sha, Caller(name, role, issued_at, districts, provider)


def scope(role: Role, districts: object, provider: object) -> tuple[frozenset[str], str | None]:
    """A key's scope, checked against its role: districts only for social workers and reviewers
    (each a district or city the geography knows), a provider id for, and only for, providers."""
    if not isinstance(districts, list) or not all(isinstance(d, str) for d in districts):
        raise ValueError("districts must be a list of district names")
    if districts and role not in (Role.SOCIAL_WORKER, Role.REVIEWER):
        raise ValueError(f"a {role} key has no districts; only social workers and reviewers")
    geography = load_geography()
    try:
        canonical = frozenset(geography.canonical(district) for district in districts)
    except UnknownUnit as error:
        raise ValueError(str(error)) from None
    if role is Role.PROVIDER:
        if not isinstance(provider, str) or not _PROVIDER.match(provider):
            raise ValueError("a provider key names its provider's registry id, e.g. ngo-umid")
        if len(provider) > PROVIDER_ID_LENGTH:
            raise ValueError(f"a provider id has at most {PROVIDER_ID_LENGTH} characters")
    elif provider is not None:
        raise ValueError(f"a {role} key names no provider")
    return canonical, provider


def issue(
    path: Path,
    name: str,
    role: Role,
    *,
    districts: Sequence[str] = (),
    provider: str | None = None,
) -> str:
    """Adds a new key for `name` in `role` (scoped to `districts` or `provider`, see `scope`) to
    the store at `path` and returns the key itself, which is stored nowhere: the caller shows it
    once. The file is created owner-only."""
    if not _NAME.match(name):
        raise KeyStoreError(f"name {name!r} must be 1-64 letters, digits, '.', '_' or '-'")
    if len(name) > longest_name(role):
        raise KeyStoreError(
            f"a name in the role {role} has at most {longest_name(role)} characters"
        )
    try:
        canonical, provider = scope(role, list(districts), provider)
    except ValueError as error:
        raise KeyStoreError(str(error)) from None
    if path.exists():
        KeyStore.load(path)  # never append to a store that would not load
    key = new_key()
    entry: dict[str, object] = {
        "name": name,
        "role": role.value,
        "sha256": digest(key),
        "issued_at": datetime.now(UTC).isoformat(),
    }
    if canonical:
        entry["districts"] = sorted(canonical)
    if provider is not None:
        entry["provider"] = provider
    line = json.dumps(entry, ensure_ascii=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as store:
        store.write(line + "\n")
    return key


def revoke(path: Path, name: str) -> int:
    """Removes every key of `name` from the store; returns how many were removed."""
    KeyStore.load(path)
    kept, removed = [], 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and json.loads(line)["name"] == name:
            removed += 1
        elif line.strip():
            kept.append(line)
    replacement = path.with_suffix(path.suffix + ".new")
    with contextlib.suppress(FileNotFoundError):
        replacement.unlink()
    descriptor = os.open(replacement, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as store:
        store.write("".join(line + "\n" for line in kept))
    replacement.replace(path)
    return removed
