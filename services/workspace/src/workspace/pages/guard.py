"""Who may open a page: a signed-in person in one of its roles; anybody else is sent to the
sign-in form (no session) or told the page is not for their role."""

from collections.abc import Awaitable, Callable
from uuid import UUID

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from socialsvc_common.apikeys import Role
from workspace.signin import STAFF
from workspace.web import Desk, FormRefused, Web

Handler = Callable[..., Awaitable[Response]]
WORKERS = frozenset({Role.SOCIAL_WORKER, Role.ADMINISTRATOR})
Endpoint = Callable[[Request], Awaitable[Response]]


class NotAnId(ValueError):
    """A path that names no application, appeal or placement (not a UUID)."""


def id_of(request: Request, name: str) -> UUID:
    try:
        return UUID(str(request.path_params[name]))
    except ValueError:
        raise NotAnId(name) from None


def home_of(desk: Desk) -> str:
    return "/provider" if desk.person.is_provider else "/queues"


def for_roles(
    web: Web, roles: frozenset[Role], *, post: bool = False
) -> Callable[[Handler], Endpoint]:
    """Wraps a page handler `(request, desk[, form])`: signed in, in `roles`, and for a POST the
    form with this session's CSRF token. A path naming no id is the not-found page."""

    def wrap(handler: Handler) -> Endpoint:
        async def page(request: Request) -> Response:
            try:
                return await checked(request)
            except NotAnId:
                return web.render(request, "refused.html", 404, reason="refused.not_found")

        async def checked(request: Request) -> Response:
            desk = web.desk(request)
            if desk is None:
                return RedirectResponse("/signin", status_code=303)
            if desk.person.role not in roles:
                return web.render(request, "refused.html", 403, reason="refused.role")
            if not post:
                return await handler(request, desk)
            try:
                form = await web.posted(request, desk)
            except FormRefused:
                return web.render(request, "refused.html", 403, reason="refused.csrf")
            return await handler(request, desk, form)

        return page

    return wrap


def staff(web: Web, *, post: bool = False) -> Callable[[Handler], Endpoint]:
    return for_roles(web, STAFF, post=post)


def worker(web: Web, *, post: bool = False) -> Callable[[Handler], Endpoint]:
    """Pages of what only social workers do (intake takes added facts from them alone)."""
    return for_roles(web, WORKERS, post=post)


def provider(web: Web, *, post: bool = False) -> Callable[[Handler], Endpoint]:
    return for_roles(web, frozenset({Role.PROVIDER}), post=post)
