"""Many messages in one request to the real local SMS gateway (POST /messages/batch), over real
HTTP: each message gets its own answer, repeats of keys are answered as before (in either form),
a failed request fails all of its messages as transient, and one-by-one still works."""

import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from notifications.channels import (
    GatewayReceipt,
    PermanentDeliveryError,
    SmsGateway,
    TransientDeliveryError,
)
from notifications.sinks import create_sms_gateway
from tests.harness import free_port, served

pytestmark = pytest.mark.integration

LOCAL = "127.0.0.1"
PHONE = "+994501234567"
BATCH = ("POST", "/messages/batch")
SINGLE = ("POST", "/messages")


def counting(app: Any, requests: Counter[tuple[str, str]]) -> Any:
    """The ASGI app as it is, counting the messages requests that reach it by method and path."""

    async def counted(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/messages"):
            requests[(scope["method"], scope["path"])] += 1
        await app(scope, receive, send)

    return counted


@dataclass
class Sink:
    url: str
    store: Path
    requests: Counter[tuple[str, str]]

    def lines(self) -> list[dict[str, Any]]:
        if not self.store.exists():
            return []
        return [json.loads(line) for line in self.store.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
async def sink(tmp_path: Path) -> AsyncIterator[Sink]:
    requests: Counter[tuple[str, str]] = Counter()
    store = tmp_path / "sms.jsonl"
    async with served(counting(create_sms_gateway(store), requests)) as port:
        yield Sink(f"http://{LOCAL}:{port}", store, requests)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


def sms(text: str, to: str = PHONE, key: str | None = None) -> Any:
    return SmsGateway.message(to, text, key or str(uuid4()))


async def test_a_batch_goes_in_one_request_and_each_message_gets_its_answer(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    gateway = SmsGateway(sink.url, client)
    first = sms("Salam")
    batch = [first, sms("İkinci"), sms("Bad number", to="+12"), sms("Dördüncü"), first]
    answers = await gateway.send_many(batch)
    assert sink.requests == {BATCH: 1}
    assert [type(a) for a in answers] == [GatewayReceipt] * 2 + [PermanentDeliveryError] + [
        GatewayReceipt
    ] * 2
    assert "422" in str(answers[2])
    assert answers[4] == answers[0]  # the same key in one request: the first answer again
    assert all(a.delivered for a in answers if isinstance(a, GatewayReceipt))
    lines = sink.lines()
    assert [line["key"] for line in lines] == [batch[0].key, batch[1].key, batch[3].key]

    # Repeats, in either form, are answered as the first time and stored nothing.
    assert await gateway.send_many(batch[:2]) == answers[:2]
    assert await gateway.send(PHONE, "İkinci", batch[1].key) == answers[1]
    reused = await gateway.send_many([sms("Başqa mətn", key=first.key)])
    assert isinstance(reused[0], PermanentDeliveryError)
    assert len(sink.lines()) == 3
    # A key first sent alone is recognised in a batch.
    alone = str(uuid4())
    receipt = await gateway.send(PHONE, "Tək", alone)
    assert await gateway.send_many([sms("Tək", key=alone)]) == [receipt]
    assert sink.requests == {BATCH: 4, SINGLE: 2}


async def test_a_failed_request_leaves_every_message_to_retry(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    await client.post(f"{sink.url}/control", json={"fail_next": 1, "fail_status": 503})
    gateway = SmsGateway(sink.url, client)
    batch = [sms(f"Mesaj {n}") for n in range(4)]
    answers = await gateway.send_many(batch)
    assert all(isinstance(a, TransientDeliveryError) and "503" in str(a) for a in answers)
    assert sink.lines() == []
    again = await gateway.send_many(batch)
    assert all(isinstance(a, GatewayReceipt) for a in again)
    assert len(sink.lines()) == 4


async def test_an_unreachable_gateway_fails_every_message_as_transient(
    client: httpx.AsyncClient,
) -> None:
    gateway = SmsGateway(f"http://{LOCAL}:{free_port()}", client)
    answers = await gateway.send_many([sms("Salam"), sms("Sağ olun")])
    assert all(isinstance(a, TransientDeliveryError) and "ConnectError" in str(a) for a in answers)


async def test_batches_are_cut_to_the_cap_and_keep_their_order(
    sink: Sink, client: httpx.AsyncClient
) -> None:
    gateway = SmsGateway(sink.url, client, max_batch=2)
    batch = [sms(f"Mesaj {n}") for n in range(5)]
    answers = await gateway.send_many(batch)
    assert sink.requests == {BATCH: 3}
    assert all(isinstance(a, GatewayReceipt) for a in answers)
    assert [line["key"] for line in sink.lines()] == [m.key for m in batch]


async def test_one_by_one_posts_each_message_alone(sink: Sink, client: httpx.AsyncClient) -> None:
    gateway = SmsGateway(sink.url, client, batch=False)
    batch = [sms("Salam"), sms("Bad number", to="+12"), sms("Sağ olun")]
    answers = await gateway.send_many(batch)
    assert sink.requests == {SINGLE: 3}
    assert [type(a) for a in answers] == [GatewayReceipt, PermanentDeliveryError, GatewayReceipt]
    assert [line["key"] for line in sink.lines()] == [batch[0].key, batch[2].key]


async def test_the_sink_refuses_what_is_not_a_batch(sink: Sink, client: httpx.AsyncClient) -> None:
    url = f"{sink.url}/messages/batch"
    not_a_list = await client.post(url, json={"to": PHONE, "text": "Salam"})
    assert not_a_list.status_code == 422
    assert not_a_list.headers["content-type"] == "application/problem+json"
    too_many = [{"idempotency_key": str(n), "to": PHONE, "text": "x"} for n in range(501)]
    assert (await client.post(url, json=too_many)).status_code == 413
    items = [{"to": PHONE, "text": "Salam"}, {"idempotency_key": "k", "to": "1", "text": ""}]
    answers = (await client.post(url, json=items)).json()
    assert [a["status"] for a in answers] == [400, 422]
    assert {e["field"] for e in answers[1]["errors"]} == {"to", "text"}
    assert sink.lines() == []
