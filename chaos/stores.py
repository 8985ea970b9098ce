"""What the four services' databases and the gateways' sinks hold, read after the run.

The tables are the services' own (see each service's store.py and socialsvc_common's outbox);
the suite only reads them, with plain SQL, once the platform has drained.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from notifications.app import NotificationsSettings
from notifications.channels import message_id
from socialsvc_common.db import libpq_url


def _plain(url: str) -> str:
    return libpq_url(url)


async def rows(url: str, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(_plain(url)) as connection:
        cursor = await connection.execute(query.encode(), params)
        return list(await cursor.fetchall())


async def unsent_outbox(url: str) -> int:
    found = await rows(url, "SELECT count(*) FROM outbox WHERE sent_at IS NULL")
    return int(found[0][0])


async def pending_messages(url: str) -> int:
    """Messages still to go; an offer's reminder waits days by design, so it counts only once
    its time has come (a message waiting for a retry counts all along)."""
    found = await rows(
        url,
        "SELECT count(*) FROM notifications WHERE status = 'pending'"
        " AND (kind <> 'offer_reminder' OR next_attempt_at <= now())",
    )
    return int(found[0][0])


@dataclass
class Stores:
    applications: set[str] = field(default_factory=set)
    decisions: dict[str, str] = field(default_factory=dict)
    # application id -> how many placements, waiting entries
    placements: dict[str, int] = field(default_factory=dict)
    waiting: dict[str, int] = field(default_factory=dict)
    # (notification id, application id, kind, status)
    messages: list[tuple[str, str, str, str]] = field(default_factory=list)
    unsent: dict[str, int] = field(default_factory=dict)


async def read_stores(urls: dict[str, str]) -> Stores:
    stores = Stores()
    stores.applications = {
        str(r[0]) for r in await rows(urls["intake"], "SELECT id FROM applications")
    }
    for app, outcome in await rows(
        urls["eligibility"], "SELECT application_id, outcome FROM decisions"
    ):
        stores.decisions[str(app)] = str(outcome)
    for (app,) in await rows(urls["assignment"], "SELECT application_id FROM placements"):
        stores.placements[str(app)] = stores.placements.get(str(app), 0) + 1
    for (app,) in await rows(
        urls["assignment"], "SELECT application_id FROM waitlist WHERE waiting"
    ):
        stores.waiting[str(app)] = stores.waiting.get(str(app), 0) + 1
    stores.messages = [
        (str(i), str(a), str(k), str(s))
        for i, a, k, s in await rows(
            urls["notifications"], "SELECT id, application_id, kind, status FROM notifications"
        )
    ]
    stores.unsent = {service: await unsent_outbox(url) for service, url in urls.items()}
    return stores


def _lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def sink_counts(sinks: Path) -> dict[str, int]:
    """How many messages the sinks hold per key: the SMS idempotency key, or the Message-ID the
    e-mail gateway derives from it."""
    counts: dict[str, int] = {}
    for record in _lines(sinks / "sms.jsonl"):
        counts[record["key"]] = counts.get(record["key"], 0) + 1
    for record in _lines(sinks / "mail.jsonl"):
        counts[record["message_id"]] = counts.get(record["message_id"], 0) + 1
    return counts


def delivered(counts: dict[str, int], notification_id: str) -> int:
    """Messages the citizen got for one notification, over SMS and e-mail together."""
    sender = NotificationsSettings.model_fields["email_sender"].default
    return counts.get(notification_id, 0) + counts.get(message_id(notification_id, sender), 0)
