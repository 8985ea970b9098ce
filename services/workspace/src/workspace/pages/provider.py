"""A provider's own desk: its capacity and contract at a glance (a warning when the contract is
about to end), its offers to accept or decline, its placements to start, to record each service
delivered on, and to end with a reason, and the people waiting who fit it. Assignment answers a
provider key about its own provider only; no name or FIN reaches these pages."""

import asyncio
from datetime import date, datetime

from fastapi import Request
from fastapi.responses import Response
from starlette.routing import Route

from workspace.clients import ServiceError
from workspace.pages.cases import BAKU
from workspace.pages.guard import id_of, provider
from workspace.web import Desk, Web, load, session_ended

STEPS = ("accept", "decline", "start")
END_REASONS = ("service_ended", "moved", "died", "other")
SERVICE_KINDS = ("visit", "session", "meal", "care", "other")
NOTE_LENGTH = 500


def service_of(form: dict[str, str]) -> dict[str, object] | None:
    """The service delivered the form records, or None when it is not one."""
    kind, minutes, note = (
        form.get("kind", ""),
        form.get("minutes", "").strip(),
        form.get("note", ""),
    )
    try:
        delivered_on = date.fromisoformat(form.get("delivered_on", ""))
    except ValueError:
        return None
    if kind not in SERVICE_KINDS or delivered_on > baku_today() or len(note) > NOTE_LENGTH:
        return None
    service: dict[str, object] = {"delivered_on": delivered_on.isoformat(), "kind": kind}
    if minutes:
        if not minutes.isdigit() or not 1 <= int(minutes) <= 24 * 60:
            return None
        service["minutes"] = int(minutes)
    if note.strip():
        service["note"] = note.strip()
    return service


def routes(web: Web) -> list[Route]:
    @provider(web)
    async def desk_page(request: Request, desk: Desk) -> Response:
        person = desk.person
        entry, offers, accepted, started, waiting = await asyncio.gather(
            load(web.services.provider(person)),
            load(web.services.provider_placements(person, "offered")),
            load(web.services.provider_placements(person, "accepted")),
            load(web.services.provider_placements(person, "started")),
            load(web.services.waitlist(person)),
        )
        if session_ended(entry, offers, accepted, started, waiting):
            return web.close_session(request, "/signin?ended=1")
        return web.render(
            request,
            "provider.html",
            entry=entry,
            offers=offers,
            accepted=accepted,
            started=started,
            waiting=waiting,
            end_reasons=END_REASONS,
        )

    @provider(web)
    async def placement_page(request: Request, desk: Desk) -> Response:
        person, placement_id = desk.person, id_of(request, "placement_id")
        listed, services = await asyncio.gather(
            load(web.services.provider_placements(person)),
            load(web.services.services_delivered(person, placement_id)),
        )
        if session_ended(listed, services):
            return web.close_session(request, "/signin?ended=1")
        if listed.error is not None:
            return web.render(request, "case_missing.html", 502, problem=listed.error)
        found = [p for p in listed.value if p.placement_id == placement_id]
        if not found:
            return web.render(request, "refused.html", 404, reason="refused.not_found")
        return web.render(
            request,
            "placement.html",
            placement=found[0],
            services=services,
            kinds=SERVICE_KINDS,
            end_reasons=END_REASONS,
            today=baku_today().isoformat(),
        )

    @provider(web, post=True)
    async def move(request: Request, desk: Desk, form: dict[str, str]) -> Response:
        placement_id, step = id_of(request, "placement_id"), str(request.path_params["step"])
        own_page = f"/provider/placements/{placement_id}"
        back = own_page if form.get("back") == own_page else "/provider"
        body = None
        if step == "release":
            if form.get("reason") not in END_REASONS:
                return web.refuse(desk, "provider.wrong_reason", back)
            body = {"reason": form["reason"]}
        elif step not in STEPS:
            return web.render(request, "refused.html", 404, reason="refused.not_found")
        try:
            await web.services.move_placement(desk.person, placement_id, step, body)
        except ServiceError as error:
            return web.failed(request, desk, error, back)
        return web.done(desk, f"provider.done.{step}", back)

    @provider(web, post=True)
    async def record(request: Request, desk: Desk, form: dict[str, str]) -> Response:
        placement_id = id_of(request, "placement_id")
        back = f"/provider/placements/{placement_id}"
        service = service_of(form)
        if service is None:
            return web.refuse(desk, "provider.wrong_service", back, form)
        try:
            await web.services.record_service(desk.person, placement_id, service)
        except ServiceError as error:
            return web.failed(request, desk, error, back, form)
        return web.done(desk, "provider.done.service", back)

    return [
        Route("/provider", desk_page, methods=["GET"]),
        Route("/provider/placements/{placement_id}", placement_page, methods=["GET"]),
        Route("/provider/placements/{placement_id}/services", record, methods=["POST"]),
        Route("/provider/placements/{placement_id}/{step}", move, methods=["POST"]),
    ]


def baku_today() -> date:
    """Today in Baku, as assignment counts a service's day (not the server's own zone)."""
    return datetime.now(BAKU).date()
