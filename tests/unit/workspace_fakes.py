"""Stand-ins for the services' HTTP APIs, for the workspace's unit tests: canned answers by
method and path, every request kept so a test can say what reached a service."""

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from socialsvc_common.apikeys import Role, issue
from workspace.app import build_app, build_web
from workspace.clients import SERVICES, Services
from workspace.settings import WorkspaceSettings

CASE_ID = uuid.UUID("1a2b3c4d-0000-4000-8000-000000000001")
URLS = {s: f"http://{s}.test" for s in SERVICES}
Answer = tuple[int, Any]


def problem(status: int, slug: str, title: str, detail: str) -> tuple[int, dict[str, Any]]:
    body = {"type": f"https://socialsvc.example.az/problems/{slug}", "title": title}
    return status, body | {"status": status, "detail": detail}


MISSING_ROUTE = problem(404, "http", "Not Found", "Not Found")


@dataclass
class FakeServices:
    answers: dict[tuple[str, str, str], Answer] = field(default_factory=dict)
    files: dict[tuple[str, str], tuple[bytes, dict[str, str]]] = field(default_factory=dict)
    seen: list[httpx.Request] = field(default_factory=list)

    def on(self, service: str, method: str, path: str, answer: Answer) -> None:
        self.answers[(service, method, path)] = answer

    def on_file(self, service: str, path: str, content: bytes, headers: dict[str, str]) -> None:
        """A GET that answers a file (not JSON) with these headers."""
        self.files[(service, path)] = (content, headers)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        service = request.url.host.split(".")[0]
        if request.method == "GET" and (service, request.url.path) in self.files:
            content, headers = self.files[(service, request.url.path)]
            return httpx.Response(200, content=content, headers=headers)
        found = self.answers.get((service, request.method, request.url.path), MISSING_ROUTE)
        status, body = found
        if body is None:
            return httpx.Response(status)
        kind = "application/problem+json" if status >= 400 else "application/json"
        return httpx.Response(status, content=json.dumps(body), headers={"content-type": kind})

    def calls(self, service: str, method: str, path: str) -> list[httpx.Request]:
        return [
            r
            for r in self.seen
            if r.url.host.startswith(service) and r.method == method and r.url.path == path
        ]


def workspace(tmp_path: Path, fakes: FakeServices) -> tuple[httpx.AsyncClient, dict[str, str]]:
    """A workspace on the fakes, and keys by name: worker (Xətai), reviewer, operator,
    submitter, provider."""
    store = tmp_path / "keys.jsonl"
    keys = {
        "worker": issue(store, "leyla", Role.SOCIAL_WORKER, districts=["Xətai"]),
        "reviewer": issue(store, "rauf", Role.REVIEWER),
        "operator": issue(store, "oper", Role.OPERATOR),
        "submitter": issue(store, "egov", Role.SUBMITTER),
        "provider": issue(store, "umid", Role.PROVIDER, provider="ngo-umid"),
    }
    settings = WorkspaceSettings(api_keys_file=store, log_json=True)
    services = Services(URLS, transport=httpx.MockTransport(fakes.handle))
    web = build_web(settings, services=services)
    app = build_app(settings, web=web, failure_delay=0)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app, client=("10.1.2.3", 50000)), base_url="http://127.0.0.1"
    )
    return client, keys


def csrf_of(page: str) -> str:
    marker = 'name="csrf" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


async def sign_in(client: httpx.AsyncClient, key: str) -> httpx.Response:
    form = await client.get("/signin")
    return await client.post("/signin", data={"key": key, "csrf": csrf_of(form.text)})
