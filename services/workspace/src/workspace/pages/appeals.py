"""An appeal and the reviewer's verdict on it (eligibility's POST /appeals/{id}/decision): uphold
the decision or overturn it, always with reasons; an overturn may grant a need level and
provision types. Staff who are not reviewers read the appeal without the form."""

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.routing import Route

from socialsvc_common.contract.payloads import Language, ProvisionType
from socialsvc_common.explanations import default_explanations
from workspace.clients import ServiceError
from workspace.pages.guard import id_of, staff
from workspace.web import Desk, Web, load, session_ended

REASONS_LENGTH = 4000
VERDICTS = ("upheld", "overturned")
NEED_LEVELS = ("1", "2", "3", "4")


def verdict_of(form: dict[str, str]) -> dict[str, Any] | None:
    """The verdict the form gives, or None when it is not one."""
    status, reasons = form.get("status", ""), form.get("reasons", "").strip()
    if status not in VERDICTS or not 1 <= len(reasons) <= REASONS_LENGTH:
        return None
    verdict: dict[str, Any] = {"status": status, "reasons": reasons}
    if status == "overturned":
        if (level := form.get("need_level", "")) in NEED_LEVELS:
            verdict["need_level"] = int(level)
        granted = [p for p in form.get("provision_types", "").split(",") if p]
        if granted:
            if not set(granted) <= {p.value for p in ProvisionType}:
                return None
            verdict["provision_types"] = granted
    return verdict


def routes(web: Web) -> list[Route]:
    @staff(web)
    async def show(request: Request, desk: Desk) -> Response:
        person, appeal_id = desk.person, id_of(request, "appeal_id")
        appeal = await load(web.services.appeal(person, appeal_id))
        if session_ended(appeal):
            return web.close_session(request, "/signin?ended=1")
        if appeal.error is not None:
            status = appeal.error.status if appeal.error.status == 404 else 502
            return web.render(request, "case_missing.html", status, problem=appeal.error)
        decisions = await load(web.services.decisions(person, appeal.value.application_id))
        return web.render(
            request,
            "appeal.html",
            appeal=appeal.value,
            decisions=decisions,
            verdicts=VERDICTS,
            need_levels=NEED_LEVELS,
            provision_types=[p.value for p in ProvisionType],
            explained=default_explanations()[Language(web.language(request))],
        )

    @staff(web, post=True)
    async def decide(request: Request, desk: Desk, form: dict[str, str]) -> Response:
        appeal_id = id_of(request, "appeal_id")
        back = f"/appeals/{appeal_id}"
        verdict = verdict_of(form)
        if verdict is None:
            return web.refuse(desk, "appeal.wrong", back, form)
        try:
            await web.services.decide_appeal(desk.person, appeal_id, verdict)
        except ServiceError as error:
            return web.failed(request, desk, error, back, form)
        return web.done(desk, f"appeal.done.{verdict['status']}", back)

    return [
        Route("/appeals/{appeal_id}", show, methods=["GET"]),
        Route("/appeals/{appeal_id}/decision", decide, methods=["POST"]),
    ]
