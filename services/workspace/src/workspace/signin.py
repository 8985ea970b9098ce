"""Who may use the workspace, and how they prove it.

`SignIn` is the interface a way of signing in serves: the platform's API keys now (`KeySignIn`),
an OpenID Connect provider (Keycloak, the e-government's own) later, whose `verify` would take the
provider's answer instead of a form and map its claims to a `Person`. Whatever signs a person in,
the workspace calls the services with that person's own credential, so each service records them
as the actor and enforces their scope; the credential stays in this process's memory only.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from socialsvc_common.apikeys import Caller, KeyStore, Role

# The roles the workspace serves; the others (submitting systems, the citizens' portal) have
# their own channels.
STAFF = frozenset({Role.SOCIAL_WORKER, Role.REVIEWER, Role.OPERATOR, Role.ADMINISTRATOR})
ADMITTED = STAFF | {Role.PROVIDER}


class Refusal(StrEnum):
    """Why a sign-in was refused: the locale key of the message the person reads."""

    EMPTY = "signin.refused.empty"
    UNKNOWN = "signin.refused.unknown"
    ROLE = "signin.refused.role"


@dataclass(frozen=True, slots=True)
class Person:
    """Someone signed in: who, in which role and scope, and the credential the services take."""

    name: str
    role: Role
    districts: frozenset[str] = frozenset()
    provider: str | None = None
    credential: str = field(default="", repr=False)

    @property
    def is_provider(self) -> bool:
        return self.role is Role.PROVIDER

    @property
    def reviews_appeals(self) -> bool:
        return self.role in (Role.REVIEWER, Role.ADMINISTRATOR)

    @property
    def works_cases(self) -> bool:
        """Social workers and reviewers write notes and assign cases (operators only read)."""
        return self.role in (Role.SOCIAL_WORKER, Role.REVIEWER, Role.ADMINISTRATOR)

    @property
    def visits_and_adds_facts(self) -> bool:
        """Social workers record home visits and add facts to applications."""
        return self.role in (Role.SOCIAL_WORKER, Role.ADMINISTRATOR)

    @classmethod
    def of(cls, caller: Caller, credential: str) -> "Person":
        return cls(caller.name, caller.role, caller.districts, caller.provider, credential)


class SignIn(Protocol):
    """A way of signing in."""

    @property
    def name(self) -> str:
        """What the sign-in page calls this way (a locale key)."""
        ...

    @property
    def form_fields(self) -> tuple[str, ...]:
        """The fields the sign-in form asks for, in order (each a locale key's suffix)."""
        ...

    async def verify(self, form: Mapping[str, str]) -> Person | Refusal:
        """The person the form proves, or why not."""
        ...


class KeySignIn:
    """Signing in with one's API key, checked against the store the services read."""

    name = "signin.with_key"
    form_fields = ("key",)

    def __init__(self, store: KeyStore) -> None:
        self.store = store

    async def verify(self, form: Mapping[str, str]) -> Person | Refusal:
        key = form.get("key", "").strip()
        if not key:
            return Refusal.EMPTY
        caller = self.store.identify(key)
        if caller is None:
            return Refusal.UNKNOWN
        if caller.role not in ADMITTED:
            return Refusal.ROLE
        return Person.of(caller, key)
