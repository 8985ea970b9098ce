"""Searching cases. The form is POSTed and its criteria kept in the session (server memory), then
the results are shown by a GET of /search: a FIN or a name never appears in a URL, so neither the
browser's history nor any access log holds one."""

import re
from datetime import date

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.routing import Route

from socialsvc_common.geography import load_geography
from workspace.pages.guard import staff
from workspace.web import Desk, Web, load, session_ended

CRITERIA = (
    "reference",
    "fin",
    "name",
    "district",
    "status",
    "target_group",
    "submitted_from",
    "submitted_to",
    "assigned_to",
)
PAGE = 50
_REFERENCE = re.compile(r"^[0-9A-F]{4}-?[0-9A-F]{4}$")
_FIN = re.compile(r"^[0-9A-Z]{7}$")


def checked(form: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The criteria worth sending, and the locale keys of what is wrong with the others."""
    criteria = {k: form.get(k, "").strip() for k in CRITERIA if form.get(k, "").strip()}
    wrong = []
    if "reference" in criteria:
        criteria["reference"] = criteria["reference"].upper()
        if not _REFERENCE.match(criteria["reference"]):
            wrong.append("search.wrong.reference")
    if "fin" in criteria:
        criteria["fin"] = criteria["fin"].upper()
        if not _FIN.match(criteria["fin"]):
            wrong.append("search.wrong.fin")
    for name in ("submitted_from", "submitted_to"):
        if name in criteria:
            try:
                date.fromisoformat(criteria[name])
            except ValueError:
                wrong.append("search.wrong.date")
    offset = form.get("offset", "0")
    criteria["offset"] = offset if offset.isdigit() else "0"
    return criteria, wrong


def routes(web: Web) -> list[Route]:
    geography = load_geography()

    @staff(web)
    async def show(request: Request, desk: Desk) -> Response:
        person = desk.person
        districts = sorted(person.districts) or sorted(geography.units())
        criteria = dict(desk.search)
        wrong = criteria.pop("wrong", "").split(",") if criteria.get("wrong") else []
        found = None
        if criteria and not wrong:
            found = await load(web.services.cases(person, {**criteria, "limit": PAGE}))
            if session_ended(found):
                return web.close_session(request, "/signin?ended=1")
        return web.render(
            request,
            "search.html",
            criteria=criteria,
            wrong=wrong,
            found=found,
            districts=districts,
            page=PAGE,
            offset=int(criteria.get("offset", "0")),
        )

    @staff(web, post=True)
    async def search(request: Request, desk: Desk, form: dict[str, str]) -> Response:
        if "clear" in form:
            desk.search = {}
        else:
            criteria, wrong = checked(form)
            desk.search = criteria | ({"wrong": ",".join(wrong)} if wrong else {})
        return RedirectResponse("/search", status_code=303)

    return [
        Route("/search", show, methods=["GET"]),
        Route("/search", search, methods=["POST"]),
    ]
