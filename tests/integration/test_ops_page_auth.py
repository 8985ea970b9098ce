"""The operations page's login, as a real `socialsvc-ops serve` process on the real broker: who
gets figures, who gets 401 or 403, and that a key never shows up in a response or the log."""

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from socialsvc_common.apikeys import Role, issue, new_key
from socialsvc_common.problems import PROBLEM_JSON
from tests.harness import free_port, key_per_role, wait_answering

pytestmark = pytest.mark.integration
PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance"}


@dataclass
class Page:
    url: str
    log: Path
    keys: dict[Role, str]
    unknown: str

    def secrets(self) -> list[str]:
        return [*self.keys.values(), self.unknown]


def serve(bootstrap: str, port: int, *extra: str, env: dict[str, str] | None = None) -> list[str]:
    command = [sys.executable, "-m", "socialsvc_ops", "serve", f"--bootstrap={bootstrap}"]
    # A service that is not there and a group of nobody's: the page must not touch real services.
    ghost = f"--service=ghost=http://127.0.0.1:{free_port()}"
    return [*command, f"--port={port}", "--since=1m", ghost, "--group=ops-auth-test", *extra]


def start(bootstrap: str, port: int, store: Path, log: Path) -> "subprocess.Popen[bytes]":
    with log.open("wb") as out:
        return subprocess.Popen(
            serve(bootstrap, port),
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "OPS_API_KEYS_FILE": str(store)},
        )


@asynccontextmanager
async def running_page(bootstrap: str, tmp_path: Path) -> AsyncIterator[Page]:
    store = tmp_path / "api-keys.jsonl"
    keys = key_per_role(store, "page")
    port, log = free_port(), tmp_path / "page.log"
    process = start(bootstrap, port, store, log)
    page = Page(f"http://127.0.0.1:{port}", log, keys, new_key())
    try:
        await wait_answering(page.url + "/login", process=process)
        yield page
    finally:
        process.terminate()
        process.wait(timeout=30)


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, object] = response.json()
    # The problem and nothing else: no figure of the snapshot rides along.
    assert set(body) == PROBLEM_FIELDS
    assert body["status"] == status
    return body


def test_the_page_refuses_to_start_without_a_key_store_that_admits_a_viewer(
    bootstrap: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPS_API_KEYS_FILE"}
    run = subprocess.run(
        serve(bootstrap, free_port()),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode != 0
    assert "API key store" in run.stderr
    assert "OPS_API_KEYS_FILE" in run.stderr

    store = tmp_path / "submitters.jsonl"
    issue(store, "gateway", Role.SUBMITTER)
    run = subprocess.run(
        serve(bootstrap, free_port(), f"--keys-file={store}"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode != 0
    assert "no operator or administrator key" in " ".join(run.stderr.split())


async def test_figures_only_for_operators_by_key_or_session(bootstrap: str, tmp_path: Path) -> None:
    async with running_page(bootstrap, tmp_path) as page:
        seen: list[httpx.Response] = []
        async with httpx.AsyncClient(base_url=page.url, timeout=30) as client:

            async def call(method: str, path: str, **options: Any) -> httpx.Response:
                response = await client.request(method, path, **options)
                seen.append(response)
                return response

            for path in ("/api/snapshot", "/api/events", "/api/journey/x"):
                body = assert_problem(await call("GET", path), 401)
                assert "log in" in str(body["detail"])
            missing = await call("GET", "/api/snapshot")
            assert missing.headers["www-authenticate"] == "Bearer"

            started = time.monotonic()
            unknown = await call("GET", "/api/snapshot", headers={"X-API-Key": page.unknown})
            assert_problem(unknown, 401)
            assert time.monotonic() - started >= 0.9, "a refused key costs its sender a second"
            submitter = {"X-API-Key": page.keys[Role.SUBMITTER]}
            assert_problem(await call("GET", "/api/snapshot", headers=submitter), 403)
            worker = {"Authorization": f"Bearer {page.keys[Role.SOCIAL_WORKER]}"}
            assert_problem(await call("GET", "/api/snapshot", headers=worker), 403)

            for role in (Role.OPERATOR, Role.ADMINISTRATOR):
                by_key = await call("GET", "/api/snapshot", headers={"X-API-Key": page.keys[role]})
                assert by_key.status_code == 200
                assert {"stages", "lag", "dead_letters"} <= set(by_key.json())
            bearer = {"Authorization": f"Bearer {page.keys[Role.OPERATOR]}"}
            assert (await call("GET", "/api/snapshot", headers=bearer)).status_code == 200

            # A browser: sent to the form, a wrong key is told so, a right one gets a session.
            index = await call("GET", "/")
            assert index.status_code == 303
            assert index.headers["location"] == "/login"
            form = await call("GET", "/login")
            assert 'action="/login"' in form.text
            assert 'name="key"' in form.text
            wrong = await call("POST", "/login", data={"key": page.unknown})
            assert wrong.status_code == 401
            assert "not known" in wrong.text
            refused = await call("POST", "/login", data={"key": page.keys[Role.SUBMITTER]})
            assert refused.status_code == 403
            assert "may not view" in refused.text
            assert not client.cookies

            login = await call("POST", "/login", data={"key": page.keys[Role.OPERATOR]})
            assert login.status_code == 303
            assert login.headers["location"] == "/"
            cookie = login.headers["set-cookie"]
            attributes = {part.strip().lower() for part in cookie.split(";")}
            assert {"httponly", "samesite=strict", "path=/", "max-age=28800"} <= attributes
            token = client.cookies["ops_session"]
            assert len(token) >= 40
            shell = await call("GET", "/")
            assert shell.status_code == 200
            # Not from the cache after a logout: the browser asks again and is sent to the form.
            assert shell.headers["cache-control"] == "no-store"
            snapshot = await call("GET", "/api/snapshot")
            assert snapshot.status_code == 200
            assert "stages" in snapshot.json()

            async with client.stream("GET", "/api/events") as stream:
                assert stream.headers["content-type"].startswith("text/event-stream")
                lines = stream.aiter_lines()
                first = await anext(line async for line in lines if line.startswith("data: "))
                assert "stages" in json.loads(first.removeprefix("data: "))

                logout = await call("POST", "/logout")
                assert logout.status_code == 303
                assert logout.headers["location"] == "/login"
                # The stream the session opened ends with it.
                async with asyncio.timeout(10):
                    async for _ in lines:
                        pass

            client.cookies.set("ops_session", token)
            ended = assert_problem(await call("GET", "/api/snapshot"), 401)
            assert "session has ended" in str(ended["detail"])
            assert_problem(await call("GET", "/api/events"), 401)
            assert (await call("GET", "/")).status_code == 303

        log = page.log.read_text()
        assert '"event": "logged in"' in log
        assert '"event": "logged out"' in log
        assert log.count("unknown api key refused") == 2
        for secret in page.secrets():
            assert secret not in log
            for response in seen:
                assert secret not in response.text
                assert secret not in str(response.headers)


async def test_a_client_that_keeps_guessing_is_held_off(bootstrap: str, tmp_path: Path) -> None:
    async with (
        running_page(bootstrap, tmp_path) as page,
        httpx.AsyncClient(base_url=page.url, timeout=30) as client,
    ):
        guesses = [
            client.get("/api/snapshot", headers={"X-API-Key": f"ssk_{n:043d}"}) for n in range(10)
        ]
        assert {r.status_code for r in await asyncio.gather(*guesses)} == {401}
        # Past the limit even the right key waits: the limit is on the sender, not the key.
        operator = {"X-API-Key": page.keys[Role.OPERATOR]}
        held = assert_problem(await client.get("/api/snapshot", headers=operator), 429)
        assert "try again" in str(held["detail"])
        assert int((await client.get("/api/snapshot", headers=operator)).headers["retry-after"]) > 0
        form = await client.post("/login", data={"key": page.keys[Role.OPERATOR]})
        assert form.status_code == 429
        assert "Too many failed attempts" in form.text
        assert not client.cookies
