"""Sends a batch of prepared messages, grouped per gateway, and gives back each one's answer.

An HTTP gateway with a batch endpoint gets all of its messages in one request (a few, when there
are more than a request takes), in the batch's order, which is due()'s: a citizen's earlier
message first. E-mail, and an HTTP gateway without a batch endpoint, take one message to a call:
citizens side by side (a call takes tens of milliseconds, and waiting for each in turn would make
that the pace of the service), one citizen's messages strictly one after another. The gateways
themselves are used side by side.
"""

import asyncio
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from notifications.attempts import Attempt
from notifications.channels import (
    EmailGateway,
    GatewayReceipt,
    HttpGateway,
    InboxGateway,
    OutgoingMessage,
    SmsGateway,
)
from socialsvc_common.contract import payloads as p

Answer = GatewayReceipt | Exception


@dataclass(frozen=True)
class Gateways:
    sms: SmsGateway
    email: EmailGateway
    inbox: InboxGateway


async def send_all(
    attempts: Sequence[Attempt], gateways: Gateways, in_flight: asyncio.Semaphore
) -> list[Answer]:
    """Each attempt's answer, in the attempts' order: a receipt, a DeliveryError, or whatever
    else went wrong with it (a bug must not stop the others)."""
    answers: list[Answer] = [RuntimeError("not sent")] * len(attempts)
    per_gateway: dict[p.Channel, list[int]] = {}
    for index, attempt in enumerate(attempts):
        per_gateway.setdefault(attempt.via, []).append(index)
    sends: list[Coroutine[Any, Any, None]] = []
    for via, indexes in per_gateway.items():
        http = _http(gateways, via)
        if http is not None and http.batch:
            sends.append(_in_batches(http, attempts, indexes, answers))
        else:
            sends += _one_by_one(gateways, attempts, indexes, answers, in_flight)
    await asyncio.gather(*sends)
    return answers


def _http(gateways: Gateways, via: p.Channel) -> HttpGateway | None:
    return {p.Channel.SMS: gateways.sms, p.Channel.EGOV_INBOX: gateways.inbox}.get(via)


def _outgoing(attempt: Attempt) -> OutgoingMessage:
    message, contact = attempt.message, attempt.contact
    if attempt.via is p.Channel.EGOV_INBOX:
        return InboxGateway.message(contact.fin, message.subject, message.body, attempt.key)
    return SmsGateway.message(contact.mobile_phone, message.sms, attempt.key)


async def _in_batches(
    gateway: HttpGateway, attempts: Sequence[Attempt], indexes: list[int], answers: list[Answer]
) -> None:
    try:
        outcomes: Sequence[Answer] = await gateway.send_many(
            [_outgoing(attempts[i]) for i in indexes]
        )
    except Exception as error:  # a bug in the adapter: every message of it waits and retries
        outcomes = [error] * len(indexes)
    for index, outcome in zip(indexes, outcomes, strict=True):
        answers[index] = outcome


def _one_by_one(
    gateways: Gateways,
    attempts: Sequence[Attempt],
    indexes: list[int],
    answers: list[Answer],
    in_flight: asyncio.Semaphore,
) -> list[Coroutine[Any, Any, None]]:
    per_citizen: dict[object, list[int]] = {}
    for index in indexes:
        per_citizen.setdefault(attempts[index].row.application_id, []).append(index)

    async def in_turn(own: list[int]) -> None:
        async with in_flight:
            for index in own:
                try:
                    answers[index] = await _send_one(gateways, attempts[index])
                except Exception as error:  # a DeliveryError, or a bug in one message
                    answers[index] = error

    return [in_turn(own) for own in per_citizen.values()]


async def _send_one(gateways: Gateways, attempt: Attempt) -> GatewayReceipt:
    message, contact, key = attempt.message, attempt.contact, attempt.key
    match attempt.via:
        case p.Channel.EMAIL if contact.email:
            return await gateways.email.send(contact.email, message.subject, message.body, key)
        case p.Channel.EGOV_INBOX:
            return await gateways.inbox.send(contact.fin, message.subject, message.body, key)
        case _:
            return await gateways.sms.send(contact.mobile_phone, message.sms, key)
