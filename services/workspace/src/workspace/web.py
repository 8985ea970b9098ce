"""What every page shares: who is signed in (the session cookie), the CSRF token of their forms,
their language, the one-time message of the last action, and rendering a template.

A session holds a `Desk`: the person, their CSRF token (one per session, compared in constant
time on every POST) and what the next page shows once (a message, an error, a form's draft)."""

import hmac
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from socialsvc_common.sessions import Sessions, Throttle
from workspace.clients import ServiceError, Services
from workspace.forms import BadForm, read_form
from workspace.i18n import LANGUAGES, catalogue, language_of
from workspace.signin import Person, SignIn

COOKIE = "ws_session"
LANGUAGE_COOKIE = "ws_lang"
# The sign-in form's own CSRF token (no session exists yet): the same value in a cookie and in
# the form, so another site cannot sign somebody in under its own key.
SIGNIN_COOKIE = "ws_signin"
TEMPLATES = Path(__file__).with_name("templates")
# Pages hold personal data: never cached, never framed, no script or style from elsewhere, and
# the address (a case's id) not sent on to another site.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


@dataclass
class Desk:
    person: Person
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    message: str | None = None
    error: ServiceError | None = None
    refusal: str | None = None
    draft: dict[str, str] = field(default_factory=dict)
    search: dict[str, str] = field(default_factory=dict)

    def said(self) -> dict[str, Any]:
        """What the next page shows once, and forgets."""
        shown = {
            "message": self.message,
            "error": self.error,
            "refusal": self.refusal,
            "draft": self.draft,
        }
        self.message, self.error, self.refusal, self.draft = None, None, None, {}
        return shown


class FormRefused(Exception):
    """A POST without the session's CSRF token, or with a body that is not our form."""


def _when(value: datetime | date | None, with_time: bool = True) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M UTC" if with_time else "%d.%m.%Y")
    return value.strftime("%d.%m.%Y")


class Web:
    def __init__(
        self,
        services: Services,
        signin: SignIn,
        *,
        cookie_secure: bool = False,
        sessions: Sessions[Desk] | None = None,
        throttle: Throttle | None = None,
        settings: dict[str, int] | None = None,
    ) -> None:
        self.services = services
        self.signin = signin
        self.cookie_secure = cookie_secure
        self.sessions: Sessions[Desk] = sessions or Sessions()
        self.throttle = throttle or Throttle()
        self.settings = settings or {}
        self.templates = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.filters["when"] = _when
        self.templates.filters["day"] = lambda v: _when(v, with_time=False)

    def desk(self, request: Request) -> Desk | None:
        token = request.cookies.get(COOKIE)
        return self.sessions.caller(token) if token else None

    def language(self, request: Request) -> str:
        return language_of(request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE))

    def render(
        self, request: Request, template: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        language = self.language(request)
        desk = self.desk(request)
        shown = desk.said() if desk is not None else {}
        page = self.templates.get_template(template).render(
            t=catalogue(language),
            lang=language,
            languages=LANGUAGES,
            desk=desk,
            person=desk.person if desk else None,
            path=request.url.path,
            **shown,
            **context,
        )
        response = HTMLResponse(page, status, headers=PAGE_HEADERS)
        if request.query_params.get("lang") in LANGUAGES:
            response.set_cookie(
                LANGUAGE_COOKIE,
                language,
                max_age=365 * 24 * 3600,
                httponly=True,
                samesite="strict",
                secure=self.cookie_secure,
            )
        return response

    async def posted(self, request: Request, desk: Desk) -> dict[str, str]:
        """The form of a POST from one of the session's own pages; FormRefused otherwise."""
        try:
            form = await read_form(request)
        except BadForm as error:
            raise FormRefused(str(error)) from None
        if not hmac.compare_digest(form.pop("csrf", "").encode(), desk.csrf.encode()):
            raise FormRefused("the form's token is not this session's")
        return form

    def open_session(self, person: Person, target: str) -> RedirectResponse:
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE,
            self.sessions.open(Desk(person)),
            max_age=int(self.sessions.lifetime),
            path="/",
            secure=self.cookie_secure,
            httponly=True,
            samesite="strict",
        )
        response.delete_cookie(SIGNIN_COOKIE, path="/signin")
        return response

    def close_session(self, request: Request, target: str = "/signin") -> RedirectResponse:
        self.sessions.close(request.cookies.get(COOKIE, ""))
        response = RedirectResponse(target, status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    def failed(
        self,
        request: Request,
        desk: Desk,
        error: ServiceError,
        back: str,
        draft: dict[str, str] | None = None,
    ) -> Response:
        """After an action a service refused: a key it no longer takes ends the session; any
        other refusal is shown on the page the person came from, their draft kept."""
        if error.ends_session:
            return self.close_session(request, "/signin?ended=1")
        desk.error, desk.draft = error, draft or {}
        return RedirectResponse(back, status_code=303)

    def refuse(
        self, desk: Desk, refusal: str, back: str, draft: dict[str, str] | None = None
    ) -> Response:
        """After a form the workspace itself refuses (the locale key says why)."""
        desk.refusal, desk.draft = refusal, draft or {}
        return RedirectResponse(back, status_code=303)

    def done(self, desk: Desk, message: str, back: str) -> Response:
        desk.message = message
        return RedirectResponse(back, status_code=303)


@dataclass(frozen=True)
class Loaded:
    """One part of a page: what a service answered, or why it did not."""

    value: Any = None
    error: ServiceError | None = None


async def load(work: Any) -> Loaded:
    """Awaits `work` (a call to a service) and keeps a refusal for the page to show in place."""
    try:
        return Loaded(await work)
    except ServiceError as error:
        return Loaded(error=error)


def session_ended(*parts: Loaded) -> bool:
    """Whether a service refused the person's key on any part (the session must end)."""
    return any(part.error is not None and part.error.ends_session for part in parts)
