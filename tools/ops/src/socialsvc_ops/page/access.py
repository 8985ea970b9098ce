"""Who may see the operations page: holders of an operator or administrator API key.

People log in with their key through a form and get a session cookie (an opaque token this
process keeps, never the key); scripts send the key with every request as the services take it,
`X-API-Key: <key>` or `Authorization: Bearer <key>`. /api/* answers 401 or 403 problem+json
without credentials or in a wrong role, and never a figure. The key is never logged or echoed.
"""

import asyncio
import html
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qs

import structlog
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from socialsvc_common.apikeys import Caller, KeyStore, KeyStoreError, Role
from socialsvc_common.problems import Problem, problem_response
from socialsvc_common.sessions import Sessions, Throttle

COOKIE = "ops_session"
VIEWERS = frozenset({Role.OPERATOR, Role.ADMINISTRATOR})
# Every refused key costs its sender this long; a person mistyping barely notices.
FAILURE_DELAY_SECONDS = 1.0
MAX_FORM_BYTES = 4096
LOGIN_PAGE = Path(__file__).parent / "static" / "login.html"
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_HOW = "log in at /login, or send an API key as 'X-API-Key: <key>' or 'Authorization: Bearer <key>'"
Endpoint = Callable[[Request], Awaitable[Response]]
log = structlog.get_logger("socialsvc-ops")


def viewers_store(path: Path | None) -> KeyStore:
    """The key store at `path`, refused (KeyStoreError) when missing, unreadable or without a key
    that may view the page: better not to start than to serve a page nobody, or anybody, opens."""
    if path is None:
        raise KeyStoreError(
            "the operations page needs an API key store: --keys-file PATH or OPS_API_KEYS_FILE "
            "(issue an operator key with `socialsvc-keys issue NAME operator`)"
        )
    store = KeyStore.load(path)
    if not any(caller.role in VIEWERS for caller in store):
        raise KeyStoreError(
            f"{path} holds no operator or administrator key, so nobody could log in "
            "(issue one with `socialsvc-keys issue NAME operator`)"
        )
    return store


class Access:
    def __init__(
        self,
        store: KeyStore,
        *,
        sessions: Sessions[Caller] | None = None,
        throttle: Throttle | None = None,
        failure_delay: float = FAILURE_DELAY_SECONDS,
    ) -> None:
        self.store = store
        self.sessions: Sessions[Caller] = sessions or Sessions()
        self.throttle = throttle or Throttle()
        self.failure_delay = failure_delay

    def guard(self, endpoint: Endpoint) -> Endpoint:
        """`endpoint` for viewers only; anybody else gets a problem, never the endpoint's data."""

        async def guarded(request: Request) -> Response:
            found = await self._viewer(request)
            if isinstance(found, Problem):
                return problem_response(found, request)
            return await endpoint(request)

        return guarded

    def page(self, endpoint: Endpoint) -> Endpoint:
        """`endpoint` for a browser with a live session; anybody else is sent to the login form."""

        async def guarded(request: Request) -> Response:
            if self._session_caller(request) is None:
                return RedirectResponse("/login", status_code=303)
            return await endpoint(request)

        return guarded

    async def login_form(self, request: Request) -> Response:
        if self._session_caller(request) is not None:
            return RedirectResponse("/", status_code=303)
        return _login_page("", 200)

    async def login(self, request: Request) -> Response:
        client = _client(request)
        if wait := self.throttle.wait(client):
            log.warning("login refused", client=client, reason="too many failed attempts")
            return _login_page(
                f"Too many failed attempts from here; try again in {int(wait) + 1} s.",
                429,
                {"Retry-After": str(int(wait) + 1)},
            )
        key = await _form_key(request)
        if key is None:
            return _login_page("Paste your API key into the field.", 400)
        caller = self.store.identify(key)
        if caller is None:
            await self._refuse(client, request)
            return _login_page("That API key is not known.", 401)
        if caller.role not in VIEWERS:
            _log_role(caller, request)
            return _login_page(
                f"The {caller.role.value} key of {caller.name} may not view this page; "
                "operator and administrator keys may.",
                403,
            )
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            COOKIE,
            self.sessions.open(caller),
            max_age=int(self.sessions.lifetime),
            path="/",
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
        log.info("logged in", caller=caller.name, role=caller.role.value, client=client)
        return response

    async def logout(self, request: Request) -> Response:
        caller = self._session_caller(request)
        self.sessions.close(request.cookies.get(COOKIE, ""))
        if caller is not None:
            log.info("logged out", caller=caller.name, client=_client(request))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    def still_allowed(self, request: Request) -> bool:
        """Whether a request `guard` admitted is still covered: its session may have ended since;
        a key in a header stays valid while the process runs (the store is read at start)."""
        return _header_key(request) is not None or self._session_caller(request) is not None

    def _session_caller(self, request: Request) -> Caller | None:
        token = request.cookies.get(COOKIE)
        return self.sessions.caller(token) if token else None

    async def _viewer(self, request: Request) -> Caller | Problem:
        key = _header_key(request)
        if key is None:
            if caller := self._session_caller(request):
                return caller
            detail = "the session has ended; " if COOKIE in request.cookies else ""
            return Problem(
                401, "unauthenticated", "Authentication required", detail + _HOW, headers=_CHALLENGE
            )
        client = _client(request)
        if wait := self.throttle.wait(client):
            return Problem(
                429,
                "too-many-attempts",
                "Too many failed attempts",
                f"too many unknown keys from this address; try again in {int(wait) + 1} s",
                headers={"Retry-After": str(int(wait) + 1)},
            )
        caller = self.store.identify(key)
        if caller is None:
            await self._refuse(client, request)
            return Problem(
                401,
                "unauthenticated",
                "Unknown API key",
                "the API key is not known",
                headers=_CHALLENGE,
            )
        if caller.role not in VIEWERS:
            _log_role(caller, request)
            return Problem(
                403,
                "forbidden",
                "Not allowed for this role",
                f"the role {caller.role.value} may not view the operations page; "
                f"allowed: {', '.join(sorted(VIEWERS))}",
            )
        return caller

    async def _refuse(self, client: str, request: Request) -> None:
        self.throttle.failed(client)
        log.warning("unknown api key refused", client=client, path=request.url.path)
        await asyncio.sleep(self.failure_delay)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _header_key(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get("x-api-key") or None


async def _form_key(request: Request) -> str | None:
    """The `key` field of a URL-encoded form of bounded size, or None for anything else."""
    if request.headers.get("content-type", "").split(";")[0].strip() != (
        "application/x-www-form-urlencoded"
    ):
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        fields = parse_qs(body.decode("ascii"), max_num_fields=4)
    except (UnicodeDecodeError, ValueError):
        return None
    values = fields.get("key", [])
    return values[0].strip() if len(values) == 1 and values[0].strip() else None


def _login_page(message: str, status: int, headers: dict[str, str] | None = None) -> Response:
    # Only our own fixed messages go in, never what the caller sent; escaped all the same.
    text = LOGIN_PAGE.read_text(encoding="utf-8").replace("<!--message-->", html.escape(message))
    return HTMLResponse(text, status, headers={"Cache-Control": "no-store", **(headers or {})})


def _log_role(caller: Caller, request: Request) -> None:
    log.warning(
        "request refused",
        caller=caller.name,
        role=caller.role.value,
        client=_client(request),
        path=request.url.path,
    )
