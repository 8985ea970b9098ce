"""A case: what intake holds (the person, the journey, notes, home visits, who works on it),
eligibility's decisions with each rule explained, the messages the citizen was sent, and the
placements. Notifications knows no districts: it is asked only after intake has answered the
case within the person's scope, so a case outside it shows nothing of its messages either."""

import asyncio
from datetime import datetime, timedelta, timezone

from fastapi import Request
from fastapi.responses import Response
from starlette.routing import Route

from socialsvc_common.contract.payloads import Language
from socialsvc_common.explanations import default_explanations
from workspace.clients import ServiceError
from workspace.pages.guard import id_of, staff
from workspace.web import Desk, Web, load, session_ended

NOTE_LENGTH = 4000
VISIT_REASON_LENGTH = 200
# Azerbaijan keeps UTC+4 all year: the time a worker types is Baku's.
BAKU = timezone(timedelta(hours=4))
VISIT_OUTCOMES = ("informed", "not_at_home", "refused", "moved", "hospitalised", "died", "other")


def routes(web: Web) -> list[Route]:
    @staff(web)
    async def case(request: Request, desk: Desk) -> Response:
        person, application_id = desk.person, id_of(request, "application_id")
        found = await load(web.services.case(person, application_id))
        if session_ended(found):
            return web.close_session(request, "/signin?ended=1")
        if found.error is not None:
            status = found.error.status if found.error.status in (403, 404) else 502
            return web.render(request, "case_missing.html", status, problem=found.error)
        parts = await asyncio.gather(
            load(web.services.notes(person, application_id)),
            load(web.services.visits(person, "requested", application_id)),
            load(web.services.visits(person, "done", application_id)),
            load(web.services.decisions(person, application_id)),
            load(web.services.messages(person, application_id)),
            load(web.services.placements(person, {"application_id": str(application_id)})),
        )
        if session_ended(*parts):
            return web.close_session(request, "/signin?ended=1")
        notes, requested, done, decisions, messages, placements = parts
        return web.render(
            request,
            "case.html",
            case=found.value,
            notes=notes,
            requested=requested,
            done=done,
            decisions=decisions,
            messages=messages,
            placements=placements,
            explained=default_explanations()[Language(web.language(request))],
            outcomes=VISIT_OUTCOMES,
        )

    @staff(web, post=True)
    async def add_note(request: Request, desk: Desk, form: dict[str, str]) -> Response:
        application_id = id_of(request, "application_id")
        back = f"/cases/{application_id}#notes"
        text = form.get("text", "")
        if not 1 <= len(text) <= NOTE_LENGTH:
            return web.refuse(desk, "case.notes.wrong_length", back, {"text": text})
        try:
            await web.services.add_note(
                desk.person, application_id, text, confidential=form.get("confidential") == "on"
            )
        except ServiceError as error:
            return web.failed(request, desk, error, back, {"text": text})
        return web.done(desk, "case.notes.added", back)

    @staff(web, post=True)
    async def assign(request: Request, desk: Desk, form: dict[str, str]) -> Response:
        application_id = id_of(request, "application_id")
        back = f"/cases/{application_id}#assignment"
        worker = desk.person.name if "me" in form else form.get("worker", "").strip() or None
        try:
            await web.services.assign(desk.person, application_id, worker)
        except ServiceError as error:
            return web.failed(request, desk, error, back)
        return web.done(desk, "case.assignment.done" if worker else "case.assignment.cleared", back)

    @staff(web, post=True)
    async def plan_visit(request: Request, desk: Desk, form: dict[str, str]) -> Response:
        application_id = id_of(request, "application_id")
        back = f"/cases/{application_id}#visits"
        reason = form.get("reason", "").strip()
        if not reason or len(reason) > VISIT_REASON_LENGTH:
            return web.refuse(desk, "case.visits.wrong_reason", back)
        try:
            await web.services.plan_visit(desk.person, application_id, reason)
        except ServiceError as error:
            return web.failed(request, desk, error, back, {"reason": reason})
        return web.done(desk, "case.visits.planned", back)

    @staff(web, post=True)
    async def visit_outcome(request: Request, desk: Desk, form: dict[str, str]) -> Response:
        application_id = id_of(request, "application_id")
        back = f"/cases/{application_id}#visits"
        visit_id = str(id_of(request, "visit_id"))
        outcome, visited_at = form.get("outcome", ""), form.get("visited_at", "")
        note = form.get("note", "").strip()
        when = baku_time(visited_at)
        if outcome not in VISIT_OUTCOMES or when is None or len(note) > 2000:
            return web.refuse(desk, "case.visits.wrong_outcome", back)
        body = {"visited_at": when.isoformat(), "outcome": outcome}
        if note:
            body["note"] = note
        try:
            await web.services.visit_outcome(desk.person, visit_id, body)
        except ServiceError as error:
            return web.failed(request, desk, error, back)
        return web.done(desk, "case.visits.recorded", back)

    return [
        Route("/cases/{application_id}", case, methods=["GET"]),
        Route("/cases/{application_id}/notes", add_note, methods=["POST"]),
        Route("/cases/{application_id}/assignee", assign, methods=["POST"]),
        Route("/cases/{application_id}/visits", plan_visit, methods=["POST"]),
        Route("/cases/{application_id}/visits/{visit_id}/outcome", visit_outcome, methods=["POST"]),
    ]


def baku_time(typed: str) -> datetime | None:
    """A date and time typed in the form (Baku's), or None if it is not one or in the future."""
    try:
        when = datetime.fromisoformat(typed)
    except ValueError:
        return None
    when = when.replace(tzinfo=BAKU) if when.tzinfo is None else when
    return when if when <= datetime.now(BAKU) + timedelta(minutes=5) else None
