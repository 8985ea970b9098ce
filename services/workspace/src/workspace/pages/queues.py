"""The home page of staff: each queue with how many wait in it, then each queue's table.

Needs information (intake's cases), home visits requested (intake), appeals to review (eligibility,
for reviewers), reviews due or overdue (assignment) and offers about to lapse (assignment). The
services answer within the person's districts; a queue a service cannot answer shows why, in
place, and the others still show."""

import asyncio
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.routing import Route

from workspace import models
from workspace.pages.guard import staff
from workspace.signin import Person
from workspace.web import Desk, Loaded, Web, load, session_ended

QUEUE_LIMIT = 50


async def reviews_due(web: Web, person: Person) -> list[models.Review]:
    """Open reviews overdue, then those due within the setting's days, each once."""
    days = web.settings.get("reviews_due_within_days", 14)
    overdue, soon = await asyncio.gather(
        web.services.reviews(person, {"overdue": True}),
        web.services.reviews(person, {"due_within_days": days}),
    )
    seen = {(review.placement_id, review.due_at) for review in overdue}
    return overdue + [
        r for r in soon if (r.placement_id, r.due_at) not in seen and r.status != "concluded"
    ]


def routes(web: Web) -> list[Route]:
    @staff(web)
    async def queues(request: Request, desk: Desk) -> Response:
        person = desk.person
        hours = web.settings.get("offers_lapsing_within_hours", 48)
        loading: dict[str, Any] = {
            "needs_information": web.services.cases(
                person, {"status": "needs_information", "limit": QUEUE_LIMIT}
            ),
            "visits": web.services.visits(person, "requested"),
            "reviews": reviews_due(web, person),
            "offers": web.services.placements(
                person, {"status": "offered", "lapsing_within_hours": hours}
            ),
        }
        if person.reviews_appeals:
            loading["appeals"] = web.services.appeals(person, "lodged")
        parts: dict[str, Loaded] = dict(
            zip(loading, await asyncio.gather(*(load(w) for w in loading.values())), strict=True)
        )
        if session_ended(*parts.values()):
            return web.close_session(request, "/signin?ended=1")
        counts = {name: count(part) for name, part in parts.items()}
        return web.render(request, "queues.html", parts=parts, counts=counts, hours=hours)

    return [Route("/queues", queues, methods=["GET"])]


def count(part: Loaded) -> int | None:
    if part.error is not None:
        return None
    if isinstance(part.value, models.CaseList):
        return part.value.total
    return len(part.value)
