"""The services' HTTP APIs as the workspace calls them: one httpx client per service, each request
sent with the signed-in person's own key (`Authorization: Bearer`), so the service records that
person as the actor and answers within their scope.

Every refusal becomes a `ServiceError` carrying the service's problem (title, detail, field
errors) for the page to show. A route a service does not have (yet) answers 404 or 405 from the
framework, not the service's own not-found: `missing_route` tells them apart.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from workspace import models
from workspace.figures import Dimensions, Figures
from workspace.signin import Person

Model = TypeVar("Model", bound=BaseModel)
Parsed = TypeVar("Parsed")
SERVICES = ("intake", "eligibility", "assignment", "notifications", "statistics")
Params = Mapping[str, str | int | bool | None]


@dataclass(frozen=True)
class ServiceError(Exception):
    """A service refused or could not be reached; what the person is shown."""

    service: str
    status: int  # 0: not reachable, or its answer not understood
    title: str = ""
    detail: str = ""
    slug: str = ""
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def missing_route(self) -> bool:
        """The service has no such route (the framework's 404 or 405, not a thing not found)."""
        return self.status == 405 or (self.status == 404 and self.slug in ("http", ""))

    @property
    def ends_session(self) -> bool:
        """The service no longer takes the person's key."""
        return self.status == 401


def _problem(service: str, response: httpx.Response) -> ServiceError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    errors = body.get("errors")
    return ServiceError(
        service,
        response.status_code,
        str(body.get("title") or ""),
        str(body.get("detail") or ""),
        str(body.get("type") or "").rsplit("/", 1)[-1],
        [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else [],
    )


class Services:
    """The services' clients. Build once per process; close at shutdown."""

    def __init__(
        self,
        urls: Mapping[str, str],
        *,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._clients = {
            name: httpx.AsyncClient(base_url=urls[name], timeout=timeout, transport=transport)
            for name in SERVICES
        }

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    async def call(
        self,
        person: Person,
        service: str,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
    ) -> Any:
        """The JSON a service answers (None for an empty answer); ServiceError otherwise."""
        try:
            response = await self._clients[service].request(
                method, path, json=json, **_as_person(person, params)
            )
        except httpx.HTTPError as error:
            raise ServiceError(service, 0, "unreachable", type(error).__name__) from None
        if response.status_code >= 400:
            raise _problem(service, response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ServiceError(service, 0, "unexpected answer", "not JSON") from None

    async def read(
        self,
        person: Person,
        service: str,
        path: str,
        shape: type[Model],
        params: Params | None = None,
    ) -> Model:
        answer = await self.call(person, service, "GET", path, params=params)
        return _parse(service, TypeAdapter(shape), answer)

    async def read_list(
        self,
        person: Person,
        service: str,
        path: str,
        shape: type[Model],
        params: Params | None = None,
    ) -> list[Model]:
        answer = await self.call(person, service, "GET", path, params=params)
        adapter: TypeAdapter[list[Model]] = TypeAdapter(list[shape])  # type: ignore[valid-type]
        return _parse(service, adapter, answer)

    # intake: the case record
    async def cases(self, person: Person, criteria: Params) -> models.CaseList:
        return await self.read(person, "intake", "/cases", models.CaseList, criteria)

    async def case(self, person: Person, application_id: UUID) -> models.Case:
        return await self.read(person, "intake", f"/cases/{application_id}", models.Case)

    async def application(self, person: Person, application_id: UUID) -> models.ApplicationStatus:
        path = f"/applications/{application_id}"
        return await self.read(person, "intake", path, models.ApplicationStatus)

    async def add_facts(self, person: Person, application_id: UUID, facts: dict[str, Any]) -> None:
        await self.call(person, "intake", "PATCH", f"/applications/{application_id}", json=facts)

    async def notes(self, person: Person, application_id: UUID) -> list[models.Note]:
        return await self.read_list(person, "intake", f"/cases/{application_id}/notes", models.Note)

    async def add_note(
        self, person: Person, application_id: UUID, text: str, *, confidential: bool
    ) -> None:
        body = {"text": text, "confidential": confidential}
        await self.call(person, "intake", "POST", f"/cases/{application_id}/notes", json=body)

    async def assign(self, person: Person, application_id: UUID, worker: str | None) -> None:
        path = f"/cases/{application_id}/assignee"
        await self.call(person, "intake", "PUT", path, json={"worker": worker})

    async def visits(
        self, person: Person, status: str, application_id: UUID | None = None
    ) -> list[models.Visit]:
        # Intake filters by status and case; the page keeps only those asked for either way.
        params = {"status": status, "application_id": str(application_id or "") or None}
        found = await self.read_list(person, "intake", "/visits", models.Visit, params)
        return [
            v for v in found if v.status == status and application_id in (None, v.application_id)
        ]

    async def plan_visit(self, person: Person, application_id: UUID, reason: str) -> None:
        path = f"/cases/{application_id}/visits"
        await self.call(person, "intake", "POST", path, json={"reason": reason})

    async def visit_outcome(self, person: Person, visit_id: str, outcome: dict[str, Any]) -> None:
        await self.call(person, "intake", "POST", f"/visits/{visit_id}/outcome", json=outcome)

    # eligibility: decisions and appeals
    async def decisions(self, person: Person, application_id: UUID) -> list[models.DecisionEntry]:
        path = f"/applications/{application_id}/decisions"
        return await self.read_list(person, "eligibility", path, models.DecisionEntry)

    async def appeals(self, person: Person, status: str | None = "lodged") -> list[models.Appeal]:
        params = {"status": status}
        return await self.read_list(person, "eligibility", "/appeals", models.Appeal, params)

    async def appeal(self, person: Person, appeal_id: UUID) -> models.Appeal:
        return await self.read(person, "eligibility", f"/appeals/{appeal_id}", models.Appeal)

    async def decide_appeal(self, person: Person, appeal_id: UUID, verdict: dict[str, Any]) -> None:
        path = f"/appeals/{appeal_id}/decision"
        await self.call(person, "eligibility", "POST", path, json=verdict)

    # notifications: what the citizen was sent (never the text nor the contact details)
    async def messages(self, person: Person, application_id: UUID) -> list[models.Message]:
        path = f"/applications/{application_id}/messages"
        return await self.read_list(person, "notifications", path, models.Message)

    # assignment: placements, reviews, and the provider's own view
    async def placements(self, person: Person, params: Params) -> list[models.Placement]:
        return await self.read_list(person, "assignment", "/placements", models.Placement, params)

    async def reviews(self, person: Person, params: Params) -> list[models.Review]:
        return await self.read_list(person, "assignment", "/reviews", models.Review, params)

    async def provider(self, person: Person) -> models.ProviderEntry:
        return await self.read(person, "assignment", "/provider", models.ProviderEntry)

    async def provider_placements(
        self, person: Person, status: str | None = None
    ) -> list[models.Placement]:
        params = {"status": status}
        path = "/provider/placements"
        return await self.read_list(person, "assignment", path, models.Placement, params)

    async def waitlist(self, person: Person) -> list[models.Waiting]:
        return await self.read_list(person, "assignment", "/provider/waitlist", models.Waiting)

    async def move_placement(
        self, person: Person, placement_id: UUID, step: str, body: dict[str, Any] | None = None
    ) -> None:
        path = f"/placements/{placement_id}/{step}"
        await self.call(person, "assignment", "POST", path, json=body)

    async def services_delivered(
        self, person: Person, placement_id: UUID
    ) -> list[models.ServiceDelivered]:
        path = f"/placements/{placement_id}/services"
        return await self.read_list(person, "assignment", path, models.ServiceDelivered)

    async def record_service(
        self, person: Person, placement_id: UUID, service: dict[str, Any]
    ) -> None:
        path = f"/placements/{placement_id}/services"
        await self.call(person, "assignment", "POST", path, json=service)

    # statistics: the ministry's figures, for every role (no personal data in them)
    async def figures(self, person: Person, filters: Params) -> Figures:
        return await self.read(person, "statistics", "/statistics", Figures, filters)

    async def dimensions(self, person: Person) -> Dimensions:
        path = "/statistics/dimensions"
        return await self.read(person, "statistics", path, Dimensions)

    async def download(
        self, person: Person, service: str, path: str, params: Params | None = None
    ) -> httpx.Response:
        """A service's answer as a stream not yet read, for passing a file on; the caller
        closes it. ServiceError when the service refuses or cannot be reached."""
        client = self._clients[service]
        request = client.build_request("GET", path, **_as_person(person, params))
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as error:
            raise ServiceError(service, 0, "unreachable", type(error).__name__) from None
        if response.status_code >= 400:
            await response.aread()
            await response.aclose()
            raise _problem(service, response)
        return response

    async def healthy(self) -> dict[str, bool]:
        """Whether each service answers its /health now."""
        found = {}
        for name, client in self._clients.items():
            try:
                found[name] = (await client.get("/health", timeout=3)).status_code == 200
            except httpx.HTTPError:
                found[name] = False
        return found


def _as_person(person: Person, params: Params | None) -> dict[str, Any]:
    """A request's query (empty values left out) and the person's key."""
    query = {k: str(v).lower() if isinstance(v, bool) else v for k, v in (params or {}).items()}
    return {
        "params": {k: v for k, v in query.items() if v not in (None, "")},
        "headers": {"Authorization": f"Bearer {person.credential}"},
    }


def _parse(service: str, adapter: TypeAdapter[Parsed], answer: Any) -> Parsed:
    try:
        return adapter.validate_python(answer)
    except ValidationError as error:
        # Never the answer itself: it may hold personal data.
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in error.errors()[:5])
        raise ServiceError(service, 0, "unexpected answer", fields) from None
