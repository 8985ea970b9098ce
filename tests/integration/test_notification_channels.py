"""The channel adapters against the real local sinks: an HTTP SMS gateway (uvicorn) and an SMTP
server (aiosmtpd), started in this process on free ports of 127.0.0.1. No Kafka, no database."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from notifications.channels import (
    EmailGateway,
    PermanentDeliveryError,
    SmsGateway,
    TransientDeliveryError,
)
from notifications.sinks import (
    ReceiptSender,
    create_sms_gateway,
    start_smtp_sink,
    stop_smtp_sink,
)
from notifications.templates import MessageContext, MessageKind, render
from socialsvc_common.contract.payloads import Language
from tests.harness import free_port, served

pytestmark = pytest.mark.integration

LOCAL = "127.0.0.1"
PHONE = "+994501234567"
SENDER = "bildiris@sosial.example.az"


@dataclass
class Sink:
    url: str
    port: int
    store: Path

    def lines(self) -> list[dict[str, Any]]:
        if not self.store.exists():
            return []
        return [json.loads(line) for line in self.store.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
async def sms_sink(tmp_path: Path) -> AsyncIterator[Sink]:
    async with served(create_sms_gateway(tmp_path / "sms.jsonl")) as port:
        yield Sink(f"http://{LOCAL}:{port}", port, tmp_path / "sms.jsonl")


@pytest.fixture
async def smtp_sink(tmp_path: Path) -> AsyncIterator[Sink]:
    port = free_port()
    controller = await asyncio.to_thread(start_smtp_sink, tmp_path / "mail.jsonl", port)
    yield Sink(f"smtp://{LOCAL}:{port}", port, tmp_path / "mail.jsonl")
    await asyncio.to_thread(stop_smtp_sink, controller)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


async def test_sms_is_stored_once_per_idempotency_key(
    sms_sink: Sink, client: httpx.AsyncClient
) -> None:
    gateway = SmsGateway(sms_sink.url, client)
    key = f"notification-{uuid4()}-sms"
    text = "Hörmətli vətəndaş, müraciətiniz qəbul edildi."
    first = await gateway.send(PHONE, text, key)
    again = await gateway.send(PHONE, text, key)
    assert again == first
    assert first.status == "delivered"  # no receipts URL: the sink answers final
    [line] = sms_sink.lines()
    assert (line["key"], line["to"], line["text"], line["segments"]) == (key, PHONE, text, 1)
    assert line["message_id"] == first.message_id
    assert "received_at" in line
    listed = (await client.get(f"{sms_sink.url}/messages")).json()
    assert [m["message_id"] for m in listed] == [first.message_id]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (503, TransientDeliveryError),
        (500, TransientDeliveryError),
        (429, TransientDeliveryError),
        (408, TransientDeliveryError),
        (400, PermanentDeliveryError),
        (403, PermanentDeliveryError),
    ],
)
async def test_gateway_failures_are_classified(
    sms_sink: Sink, client: httpx.AsyncClient, status: int, error: type[Exception]
) -> None:
    await client.post(f"{sms_sink.url}/control", json={"fail_next": 1, "fail_status": status})
    gateway = SmsGateway(sms_sink.url, client)
    key = f"notification-{uuid4()}-sms"
    with pytest.raises(error, match=str(status)):
        await gateway.send(PHONE, "Salam", key)
    assert sms_sink.lines() == []
    # The failure was not remembered against the key: the retry goes through, once.
    await gateway.send(PHONE, "Salam", key)
    assert len(sms_sink.lines()) == 1


async def test_a_slow_gateway_times_out_as_transient(
    sms_sink: Sink, client: httpx.AsyncClient
) -> None:
    await client.post(f"{sms_sink.url}/control", json={"delay_ms": 500})
    gateway = SmsGateway(sms_sink.url, client, timeout=httpx.Timeout(0.1))
    with pytest.raises(TransientDeliveryError, match="Timeout"):
        await gateway.send(PHONE, "Salam", f"notification-{uuid4()}-sms")


async def test_an_unreachable_gateway_is_transient(client: httpx.AsyncClient) -> None:
    gateway = SmsGateway(f"http://{LOCAL}:{free_port()}", client)
    with pytest.raises(TransientDeliveryError, match="ConnectError"):
        await gateway.send(PHONE, "Salam", f"notification-{uuid4()}-sms")


async def test_a_key_reused_for_another_text_is_refused(
    sms_sink: Sink, client: httpx.AsyncClient
) -> None:
    gateway = SmsGateway(sms_sink.url, client)
    key = f"notification-{uuid4()}-sms"
    await gateway.send(PHONE, "Salam", key)
    with pytest.raises(PermanentDeliveryError, match="422"):
        await gateway.send(PHONE, "Sağ olun", key)


async def test_the_sink_requires_an_idempotency_key(
    sms_sink: Sink, client: httpx.AsyncClient
) -> None:
    response = await client.post(f"{sms_sink.url}/messages", json={"to": PHONE, "text": "Salam"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 400
    invalid = await client.post(
        f"{sms_sink.url}/messages", json={"to": "12", "text": ""}, headers={"Idempotency-Key": "k"}
    )
    assert invalid.status_code == 422
    assert {e["field"] for e in invalid.json()["errors"]} == {"body.to", "body.text"}


async def test_email_in_azerbaijani_is_stored_once_per_key(smtp_sink: Sink) -> None:
    gateway = EmailGateway(LOCAL, smtp_sink.port, SENDER, local_hostname="localhost")
    context = MessageContext(application_ref="1A2B-3C4D", reasons=["income_above_need_criterion"])
    message = render(MessageKind.DECISION_INELIGIBLE, Language.AZ, context)
    key = f"notification-{uuid4()}-email"
    receipt = await gateway.send("vetendas@example.az", message.subject, message.body, key)
    again = await gateway.send("vetendas@example.az", message.subject, message.body, key)
    assert again.message_id == receipt.message_id
    [mail] = smtp_sink.lines()
    assert mail["message_id"] == receipt.message_id
    assert mail["to"] == ["vetendas@example.az"]
    assert mail["subject"] == message.subject
    assert mail["subject"].startswith("Müraciətinizə")  # decoded, not RFC 2047 words
    assert mail["body"].strip() == message.body.strip()
    assert "Ailənizin adambaşına gəliri ehtiyac meyar" in mail["body"]
    await gateway.send("vetendas@example.az", message.subject, message.body, f"{key}-other")
    assert len(smtp_sink.lines()) == 2


class Refusing:
    """An SMTP handler that answers DATA with a fixed reply."""

    def __init__(self, reply: str) -> None:
        self.reply = reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return self.reply


@pytest.mark.parametrize(
    ("reply", "error"),
    [("550 5.7.1 Refused", PermanentDeliveryError), ("451 4.3.0 Later", TransientDeliveryError)],
)
async def test_smtp_replies_are_classified(reply: str, error: type[Exception]) -> None:
    port = free_port()
    controller = Controller(Refusing(reply), hostname=LOCAL, port=port, server_hostname="localhost")
    await asyncio.to_thread(controller.start)
    try:
        gateway = EmailGateway(LOCAL, port, SENDER, local_hostname="localhost")
        with pytest.raises(error, match=reply[:3]):
            await gateway.send("vetendas@example.az", "Salam", "Salam", str(uuid4()))
    finally:
        await asyncio.to_thread(controller.stop)


async def test_an_unreachable_mail_relay_is_transient() -> None:
    gateway = EmailGateway(LOCAL, free_port(), SENDER, timeout=2, local_hostname="localhost")
    with pytest.raises(TransientDeliveryError):
        await gateway.send("vetendas@example.az", "Salam", "Salam", str(uuid4()))


async def started_sinks(*args: str) -> tuple[asyncio.subprocess.Process, bytes]:
    """`python -m notifications.sinks ARGS`, once it logged that it started, and its log."""
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "notifications.sinks", *args),
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stderr is not None
    log = b""
    while b'"event": "started"' not in log:
        line = await asyncio.wait_for(process.stderr.readline(), timeout=20)
        assert line, log.decode()
        log += line
    return process, log


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_the_sinks_process_serves_and_stops_cleanly(
    tmp_path: Path, client: httpx.AsyncClient, signum: signal.Signals
) -> None:
    sms_port, smtp_port = free_port(), free_port()
    process, log = await started_sinks(
        "--sms-port", str(sms_port), "--smtp-port", str(smtp_port), "--store-dir", str(tmp_path)
    )
    assert process.stderr is not None
    sms = SmsGateway(f"http://{LOCAL}:{sms_port}", client)
    await sms.send(PHONE, "Salam", str(uuid4()))
    await EmailGateway(LOCAL, smtp_port, SENDER, local_hostname="localhost").send(
        "vetendas@example.az", "Salam", "Salam", str(uuid4())
    )
    process.send_signal(signum)
    rest = await asyncio.wait_for(process.stderr.read(), timeout=20)
    assert await process.wait() == 0
    log += rest
    assert b'"event": "stopped"' in log
    assert PHONE.encode() not in log  # nobody's number in the logs
    assert b"vetendas@example.az" not in log
    assert len((tmp_path / "sms.jsonl").read_text().splitlines()) == 1
    assert len((tmp_path / "mail.jsonl").read_text().splitlines()) == 1


async def test_receipts_go_in_batches_with_a_bounded_number_in_flight_and_none_is_lost() -> None:
    """Messages taken faster than the platform takes their receipts: the sender reports them many
    to a request, keeps to its bound of requests in flight, and loses none."""
    in_flight, most, requests = 0, 0, 0
    taken: list[str] = []

    async def platform(scope: dict[str, Any], receive: Any, send: Any) -> None:
        nonlocal in_flight, most, requests
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        in_flight += 1
        requests += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.02)  # a platform that takes a while over each request
        in_flight -= 1
        batch = json.loads(body)
        taken.extend(receipt["reference"] for receipt in batch)
        answers = [{"reference": r["reference"], "status": "sent"} for r in batch]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": json.dumps(answers).encode()})

    async with served(platform) as port:
        url = f"http://{LOCAL}:{port}/receipts"
        sender = ReceiptSender(url, b"secret", delay=0, concurrency=8, batch_size=10)
        references = [f"key-{n}" for n in range(400)]
        for reference in references:
            sender.report({"key": reference, "message_id": f"m-{reference}"}, "delivered")
        for _ in range(600):
            if len(taken) == len(references):
                break
            await asyncio.sleep(0.05)
        await sender.close()
    assert sorted(taken) == sorted(references)
    assert 1 < most <= 8
    assert requests == 40  # full batches: the receipts came faster than they could go


async def test_the_sinks_listen_on_the_address_they_are_given(
    tmp_path: Path, client: httpx.AsyncClient
) -> None:
    """As the multi-host test runs them: on the suite's own address, for the services' host."""
    other = "127.0.0.2"
    sms_port, inbox_port, smtp_port = free_port(), free_port(), free_port()
    process, _ = await started_sinks(
        *("--host", other, "--sms-port", str(sms_port), "--inbox-port", str(inbox_port)),
        *("--smtp-port", str(smtp_port), "--store-dir", str(tmp_path)),
    )
    try:
        await SmsGateway(f"http://{other}:{sms_port}", client).send(PHONE, "Salam", str(uuid4()))
        await EmailGateway(other, smtp_port, SENDER, local_hostname="localhost").send(
            "vetendas@example.az", "Salam", "Salam", str(uuid4())
        )
        for port in (sms_port, inbox_port, smtp_port):
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((LOCAL, port), timeout=2).close()
    finally:
        process.terminate()
        await process.wait()
    assert len((tmp_path / "sms.jsonl").read_text().splitlines()) == 1
    assert len((tmp_path / "mail.jsonl").read_text().splitlines()) == 1


def test_the_sinks_refuse_a_host_that_is_not_an_address() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "notifications.sinks", "--host", "gateway.example"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "'gateway.example' is not an IP address" in done.stderr
