"""Adding facts to an application (intake's PATCH /applications/{id}), first those the current
decision asked for. Only the fields filled in are sent; the others keep what the application
said. The form is checked against the contract's own model before it goes out."""

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.routing import Route

from socialsvc_common.contract.payloads import AddedFacts, DailyActivity
from socialsvc_common.explanations import application_ref
from workspace.clients import ServiceError
from workspace.pages.guard import id_of, worker
from workspace.web import Desk, Web, load, session_ended

YES_NO = (
    "lives_alone",
    "child_with_disability",
    "trafficking_victim",
    "domestic_violence_victim",
    "released_from_prison",
    "children_institution_graduate",
)
NUMBERS = ("household_size", "monthly_household_income_azn", "disability_group")
FIELDS = (*NUMBERS, "activities_needing_help", *YES_NO)


def facts_of(form: dict[str, str]) -> dict[str, Any]:
    """The fields filled in, as the contract names them."""
    facts: dict[str, Any] = {}
    for name in NUMBERS:
        if value := form.get(name, "").replace(",", ".").strip():
            facts[name] = value
    for name in YES_NO:
        if form.get(name) in ("yes", "no"):
            facts[name] = form[name] == "yes"
    if activities := [a for a in form.get("activities_needing_help", "").split(",") if a]:
        facts["activities_needing_help"] = activities
    return facts


def routes(web: Web) -> list[Route]:
    @worker(web)
    async def show(request: Request, desk: Desk) -> Response:
        person, application_id = desk.person, id_of(request, "application_id")
        application, decisions = await asyncio.gather(
            load(web.services.application(person, application_id)),
            load(web.services.decisions(person, application_id)),
        )
        if session_ended(application, decisions):
            return web.close_session(request, "/signin?ended=1")
        if application.error is not None:
            status = application.error.status if application.error.status == 404 else 502
            return web.render(request, "case_missing.html", status, problem=application.error)
        current = [d for d in decisions.value or [] if d.current]
        asked = [f for f in (current[0].missing if current else []) if f in FIELDS]
        return web.render(
            request,
            "facts.html",
            application=application.value,
            reference=application_ref(application_id),
            asked=asked,
            others=[f for f in FIELDS if f not in asked],
            activities=list(DailyActivity),
            yes_no=YES_NO,
            decisions_error=decisions.error,
        )

    @worker(web, post=True)
    async def add(request: Request, desk: Desk, form: dict[str, str]) -> Response:
        application_id = id_of(request, "application_id")
        facts = facts_of(form)
        back = f"/cases/{application_id}/facts"
        if not facts:
            return web.refuse(desk, "facts.none", back, form)
        try:
            checked = AddedFacts.model_validate(facts).model_dump(mode="json", exclude_none=True)
        except ValidationError as error:
            wrong = sorted({str(e["loc"][0]) for e in error.errors() if e["loc"]})
            desk.draft = form | {"wrong": ",".join(wrong)}
            return web.refuse(desk, "facts.wrong", back, desk.draft)
        try:
            await web.services.add_facts(desk.person, application_id, checked)
        except ServiceError as error:
            return web.failed(request, desk, error, back, form)
        return web.done(desk, "facts.added", f"/cases/{application_id}/facts")

    return [
        Route("/cases/{application_id}/facts", show, methods=["GET"]),
        Route("/cases/{application_id}/facts", add, methods=["POST"]),
    ]
