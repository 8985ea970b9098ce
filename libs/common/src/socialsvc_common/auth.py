"""API keys on HTTP routes: every route that reads or changes data names the roles it admits.

A service's settings subclass `ApiSettings` (the key store's path, checked at start-up), its app
gets the store once with `install_api_keys`, and each route or router declares
`dependencies=[require(Role.OPERATOR)]`; an administrator is admitted everywhere. A caller sends
`Authorization: Bearer <key>` or `X-API-Key: <key>`. No key, or one the store does not know, is
401; a known key in a role the route does not admit is 403; both are problem+json and never echo
the key. /health stays open; /openapi.json answers any known key but a monitor's.
"""

from pathlib import Path
from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field, model_validator

from socialsvc_common.apikeys import Caller, KeyStore, Role
from socialsvc_common.problems import PROBLEM_JSON, Problem
from socialsvc_common.settings import Environment, ServiceSettings

_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No API key, or one that is not known", **_PROBLEM},
    403: {"description": "The key's role may not do this", **_PROBLEM},
}
_CHALLENGE = {"WWW-Authenticate": "Bearer"}

_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the API key")


class ApiSettings(ServiceSettings):
    """Settings of a service with an HTTP API behind API keys."""

    api_keys_file: Path | None = Field(
        default=None,
        description="the API key store (JSON lines of hashes, written by socialsvc-keys); "
        "without one every protected route answers 401, and production refuses to start",
    )

    @model_validator(mode="after")
    def _key_store_loads(self) -> "ApiSettings":
        if self.api_keys_file is None:
            if self.environment is Environment.PRODUCTION:
                raise ValueError("production needs an API key store: set the API_KEYS_FILE")
            return self
        store = KeyStore.load(self.api_keys_file)
        if self.environment is Environment.PRODUCTION and not len(store):
            raise ValueError(f"the API key store {self.api_keys_file} holds no keys")
        return self

    def key_store(self) -> KeyStore:
        """The key store the settings name, read now; an empty one when none is named."""
        return KeyStore.load(self.api_keys_file) if self.api_keys_file else KeyStore()


def install_api_keys(app: FastAPI, store: KeyStore) -> None:
    """Gives `app` the keys its `require` dependencies check against."""
    app.state.api_keys = store
    structlog.get_logger("auth").info("api keys loaded", keys=len(store))


def require(*roles: Role) -> Any:
    """A FastAPI dependency admitting callers in `roles` (and administrators); it returns the
    `Caller`, so a route that wants to know who called can take it as a parameter."""
    admitted = frozenset(roles) | {Role.ADMINISTRATOR}
    names = ", ".join(sorted(admitted))

    async def caller(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        header: Annotated[str | None, Depends(_api_key_header)],
    ) -> Caller:
        key = bearer.credentials if bearer is not None else header
        if not key:
            raise Problem(
                401,
                "unauthenticated",
                "Authentication required",
                "send an API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
                headers=_CHALLENGE,
            )
        # Fail closed: an app nobody gave a store admits nobody.
        store: KeyStore = getattr(request.app.state, "api_keys", None) or KeyStore()
        found = store.identify(key)
        if found is None:
            raise Problem(
                401,
                "unauthenticated",
                "Unknown API key",
                "the API key is not known",
                headers=_CHALLENGE,
            )
        if found.role not in admitted:
            structlog.get_logger("auth").warning(
                "request refused",
                caller=found.name,
                role=found.role.value,
                method=request.method,
                path=request.url.path,
            )
            raise Problem(
                403,
                "forbidden",
                "Not allowed for this role",
                f"the role {found.role.value} may not {request.method} {request.url.path}; "
                f"allowed: {names}",
            )
        return found

    return Depends(caller)
