"""Limits at the HTTP edge (socialsvc_common.edge), on intake's real app served by uvicorn on a
socket and its database on PostgreSQL: the body cap before the body is read, text with hidden
characters refused with the field named while an ordinary form still goes through, and each
client's rate."""

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from intake.app import build_app
from tests.e2e.applicants import application
from tests.harness import migrate, served
from tests.integration.casework_rig import issue_keys, settings

CAP = 64 * 1024


@asynccontextmanager
async def serving(
    database: str, store: Path, **limits: Any
) -> AsyncIterator[tuple[str, dict[str, str]]]:
    """Intake on a socket; its address and the keys of casework_rig's people by name."""
    url = await migrate("intake", database)
    keys = issue_keys(store)
    app = build_app(settings(url, store, **limits))
    async with served(app) as port:
        yield f"http://127.0.0.1:{port}", keys
    await app.state.runtime.engine.dispose()


@pytest.fixture
async def intake(fresh_postgres: str, tmp_path: Path) -> AsyncIterator[tuple[str, dict[str, str]]]:
    async with serving(fresh_postgres, tmp_path / "keys.jsonl", http_max_body_bytes=CAP) as (
        base,
        keys,
    ):
        yield base, {"Authorization": f"Bearer {keys['gateway']}"}


def form(**applicant: str) -> dict[str, Any]:
    body = application(1, random.Random(7))
    body["applicant"] |= applicant
    return body


async def test_an_ordinary_form_goes_through(intake: tuple[str, dict[str, str]]) -> None:
    base, auth = intake
    async with httpx.AsyncClient(base_url=base, headers=auth) as client:
        answer = await client.post("/applications", json=form(first_name="Gülnarə"))
    assert answer.status_code == 202, answer.text


async def test_a_declared_oversized_body_is_refused_before_it_is_sent(
    intake: tuple[str, dict[str, str]],
) -> None:
    base, auth = intake
    port = int(base.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        "POST /applications HTTP/1.1\r\nHost: intake\r\nContent-Type: application/json\r\n"
        f"Authorization: {auth['Authorization']}\r\nContent-Length: {CAP * 16}\r\n\r\n"
    )
    writer.write(head.encode() + b"{")  # one byte of the promised megabyte
    await writer.drain()
    # Answered without waiting for the rest: the body is never read.
    answer = await asyncio.wait_for(reader.read(4096), timeout=5)
    writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large"
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in headers.lower()
    assert b"connection: close" in headers.lower()
    problem = json.loads(body)
    assert problem["type"].endswith("/body-too-large")
    assert str(CAP) in problem["detail"]


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
async def test_a_chunked_body_is_cut_off_at_the_cap(
    intake: tuple[str, dict[str, str]], content_type: str
) -> None:
    base, auth = intake
    port = int(base.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST /applications HTTP/1.1\r\nHost: intake\r\nContent-Type: {content_type}\r\n"
        f"Authorization: {auth['Authorization']}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    writer.write(head.encode())
    chunk = b"2000\r\n" + b" " * 0x2000 + b"\r\n"
    # Twice the cap, unless the server has answered and closed first.
    with contextlib.suppress(ConnectionError):
        for _ in range(2 * CAP // 0x2000):
            writer.write(chunk)
            await writer.drain()
    answer = await asyncio.wait_for(reader.read(4096), timeout=5)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:80]
    assert b"application/problem+json" in answer


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("first_name", "Leyla\u202eavey\u0131lƏ"),  # right-to-left override: displays reversed
        ("last_name", "Əliyeva\u2066"),  # left-to-right isolate
        ("first_name", "Ley\x00la"),  # a NUL
        ("last_name", "Əli\x1byeva"),  # an escape, as terminals read it
    ],
)
async def test_hidden_characters_are_refused_naming_the_field(
    intake: tuple[str, dict[str, str]], field: str, value: str
) -> None:
    base, auth = intake
    async with httpx.AsyncClient(base_url=base, headers=auth) as client:
        answer = await client.post("/applications", json=form(**{field: value}))
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"].endswith("/hidden-characters")
    assert problem["errors"] == [
        {
            "field": f"applicant.{field}",
            "message": "holds a control or bidirectional-override character",
        }
    ]
    assert value not in answer.text  # the input is never echoed


async def test_each_client_has_its_rate_and_the_gateway_is_exempt(
    fresh_postgres: str, tmp_path: Path
) -> None:
    # A token every two seconds: the test's few requests take far less, even on a busy machine.
    limits = {"http_rate_per_second": 0.5, "http_rate_burst": 3}
    async with (
        serving(fresh_postgres, tmp_path / "keys.jsonl", **limits) as (base, keys),
        httpx.AsyncClient(base_url=base) as client,
    ):

        async def cases(who: str) -> httpx.Response:
            return await client.get(
                "/cases", params={"limit": 1}, headers={"Authorization": f"Bearer {keys[who]}"}
            )

        assert [(await cases("clerk")).status_code for _ in range(3)] == [200, 200, 200]
        refused = await cases("clerk")
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"].endswith("/too-many-requests")
        wait = int(refused.headers["Retry-After"])
        assert 1 <= wait <= 2  # until a token is back, rounded up
        # Another person's key has a bucket of its own; the e-government gateway has none.
        assert (await cases("xetai-worker")).status_code == 200
        assert 429 not in {(await cases("gateway")).status_code for _ in range(10)}
        # Callers without a known key share their address's bucket (/health answers 503 here:
        # the app runs without its broker).
        anonymous = [(await client.get("/health")).status_code for _ in range(4)]
        assert anonymous == [503, 503, 503, 429]
        await asyncio.sleep(wait)
        assert (await cases("clerk")).status_code == 200
