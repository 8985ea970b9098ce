"""Signing in and out. Failed sign-ins are throttled per client address and each costs a second,
as on the operations page; no key is ever logged or shown back."""

import asyncio
import hmac
import secrets

import structlog
from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.routing import Route

from workspace.forms import BadForm, read_form
from workspace.pages.guard import home_of
from workspace.signin import Person, Refusal
from workspace.web import SIGNIN_COOKIE, FormRefused, Web

FAILURE_DELAY_SECONDS = 1.0
STATUS = {Refusal.EMPTY: 400, Refusal.UNKNOWN: 401, Refusal.ROLE: 403}
log = structlog.get_logger("workspace")


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def routes(web: Web, failure_delay: float = FAILURE_DELAY_SECONDS) -> list[Route]:
    def form_page(
        request: Request, status: int = 200, refusal: str | None = None, **extra: str
    ) -> Response:
        token = secrets.token_urlsafe(32)
        ended = request.query_params.get("ended") == "1"
        response = web.render(
            request,
            "signin.html",
            status,
            signin_token=token,
            signin_refusal=refusal or ("signin.ended" if ended else None),
            fields=web.signin.form_fields,
            way=web.signin.name,
            **extra,
        )
        response.set_cookie(
            SIGNIN_COOKIE,
            token,
            max_age=3600,
            path="/signin",
            httponly=True,
            samesite="strict",
            secure=web.cookie_secure,
        )
        return response

    async def show(request: Request) -> Response:
        desk = web.desk(request)
        if desk is not None:
            return RedirectResponse(home_of(desk), status_code=303)
        return form_page(request)

    async def sign_in(request: Request) -> Response:
        client = client_of(request)
        if wait := web.throttle.wait(client):
            log.warning("sign-in refused", client=client, reason="too many failed attempts")
            seconds = str(int(wait) + 1)
            response = form_page(request, 429, "signin.refused.throttled", seconds=seconds)
            response.headers["Retry-After"] = seconds
            return response
        try:
            form = await read_form(request)
            expected = request.cookies.get(SIGNIN_COOKIE, "")
            if not expected or not hmac.compare_digest(
                form.get("csrf", "").encode(), expected.encode()
            ):
                raise FormRefused("the sign-in form's token does not match its cookie")
        except (BadForm, FormRefused):
            return form_page(request, 403, "signin.refused.expired")
        found = await web.signin.verify(form)
        if isinstance(found, Person):
            log.info("signed in", caller=found.name, role=found.role.value, client=client)
            return web.open_session(found, "/provider" if found.is_provider else "/queues")
        if found is Refusal.UNKNOWN:
            web.throttle.failed(client)
            log.warning("unknown api key refused", client=client)
            await asyncio.sleep(failure_delay)
        elif found is Refusal.ROLE:
            log.warning("sign-in refused", client=client, reason="role")
        return form_page(request, STATUS[found], found.value)

    async def sign_out(request: Request) -> Response:
        desk = web.desk(request)
        if desk is None:
            return RedirectResponse("/signin", status_code=303)
        try:
            await web.posted(request, desk)
        except FormRefused:
            return web.render(request, "refused.html", 403, reason="refused.csrf")
        log.info("signed out", caller=desk.person.name, client=client_of(request))
        return web.close_session(request)

    async def home(request: Request) -> Response:
        desk = web.desk(request)
        if desk is None:
            return RedirectResponse("/signin", status_code=303)
        if desk.person.is_provider:
            return RedirectResponse("/provider", status_code=303)
        return RedirectResponse("/queues", status_code=303)

    return [
        Route("/", home, methods=["GET"]),
        Route("/signin", show, methods=["GET"]),
        Route("/signin", sign_in, methods=["POST"]),
        Route("/signout", sign_out, methods=["POST"]),
    ]
