"""Creates or updates every topic of the registry on a running cluster (`socialsvc-topics`).

Replication follows the cluster: three copies and min.insync.replicas=2 on a cluster of three or
more brokers, one copy on a single node. Partitions only grow (Kafka cannot shrink them); a topic
with more partitions than declared is reported, not touched.
"""

import argparse
import asyncio
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import for_code

from socialsvc_common.contract.topics import REGISTRY, Topic
from socialsvc_common.kafka_security import client_security
from socialsvc_common.settings import ServiceSettings

ADMIN_TIMEOUT_MS = 30_000


class TopicAdminError(RuntimeError):
    """The broker refused to create or change a topic; the message names the topic and reason."""


@dataclass(frozen=True, slots=True)
class TopicChange:
    topic: str
    action: str  # created | partitions | config | unchanged | too-many-partitions


def replication_for(broker_count: int) -> tuple[int, int]:
    """(replication factor, min.insync.replicas) for a cluster of this many brokers."""
    replicas = min(3, broker_count)
    return replicas, 2 if replicas >= 3 else 1


def _raise_for(errors: Sequence[tuple[str, int, str | None]], what: str) -> None:
    for topic, code, message in errors:
        if code:
            raise TopicAdminError(f"{what} {topic}: {for_code(code).__name__}: {message or ''}")


async def _current_configs(
    admin: AIOKafkaAdminClient, names: list[str]
) -> dict[str, dict[str, str]]:
    if not names:
        return {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    configs: dict[str, dict[str, str]] = {}
    for response in await admin.describe_configs(resources):
        for code, message, _kind, name, entries in response.resources:
            if code:
                raise TopicAdminError(f"describing {name}: {for_code(code).__name__}: {message}")
            configs[name] = {entry[0]: entry[1] for entry in entries}
    return configs


async def ensure_topics(
    bootstrap_servers: Sequence[str],
    topics: Sequence[Topic] = REGISTRY,
    *,
    dry_run: bool = False,
    security: Mapping[str, Any] | None = None,
) -> list[TopicChange]:
    """Makes the cluster match `topics`; returns what was (or, with dry_run, would be) changed.

    `security` is `kafka_security.client_security(...)` of an admin on a secure cluster."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=list(bootstrap_servers),
        client_id="socialsvc-topics",
        request_timeout_ms=ADMIN_TIMEOUT_MS,
        **(security or {}),
    )
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        replicas, min_isr = replication_for(len(cluster["brokers"]))
        existing = {
            entry["topic"]: len(entry["partitions"])
            for entry in await admin.describe_topics([t.name for t in topics])
            if entry["error_code"] == 0
        }
        current = await _current_configs(admin, list(existing))
        changes: list[TopicChange] = []
        for topic in topics:
            wanted = {**topic.config(), "min.insync.replicas": str(min_isr)}
            if topic.name not in existing:
                changes.append(TopicChange(topic.name, "created"))
                if not dry_run:
                    response = await admin.create_topics(
                        [NewTopic(topic.name, topic.partitions, replicas, topic_configs=wanted)],
                        timeout_ms=ADMIN_TIMEOUT_MS,
                    )
                    _raise_for([e[:3] for e in response.topic_errors], "creating")
                continue
            have = existing[topic.name]
            if have < topic.partitions:
                changes.append(TopicChange(topic.name, f"partitions {have}->{topic.partitions}"))
                if not dry_run:
                    await admin.create_partitions({topic.name: NewPartitions(topic.partitions)})
            elif have > topic.partitions:
                changes.append(TopicChange(topic.name, "too-many-partitions"))
            differs = {k: v for k, v in wanted.items() if current[topic.name].get(k) != v}
            if differs:
                changes.append(TopicChange(topic.name, "config " + ", ".join(sorted(differs))))
                if not dry_run:
                    resource = ConfigResource(ConfigResourceType.TOPIC, topic.name, wanted)
                    for response in await admin.alter_configs([resource]):
                        _raise_for(
                            [(name, code, msg) for code, msg, _kind, name in response.resources],
                            "configuring",
                        )
            if not any(c.topic == topic.name for c in changes):
                changes.append(TopicChange(topic.name, "unchanged"))
        return changes
    finally:
        await admin.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="socialsvc-topics",
        description="Create or update every topic of the registry on the running Kafka cluster.",
    )
    parser.add_argument(
        "--bootstrap-servers",
        help="host:port,... (default: SOCIALSVC_KAFKA_BOOTSTRAP_SERVERS or 127.0.0.1:9092)",
    )
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if anything differs"
    )
    args = parser.parse_args(argv)
    overrides = (
        {"kafka_bootstrap_servers": args.bootstrap_servers} if args.bootstrap_servers else {}
    )
    settings = ServiceSettings(**overrides)
    try:
        changes = asyncio.run(
            ensure_topics(
                settings.kafka_bootstrap_servers,
                dry_run=args.check,
                security=client_security(settings),
            )
        )
    except (TopicAdminError, OSError) as error:
        print(f"socialsvc-topics: error: {error}", file=sys.stderr)
        return 2
    width = max(len(c.topic) for c in changes)
    for change in changes:
        print(f"{change.topic:<{width}}  {change.action}")
    pending = [c for c in changes if c.action != "unchanged"]
    if args.check and pending:
        print(
            f"socialsvc-topics: {len(pending)} topic(s) differ from the registry", file=sys.stderr
        )
        return 1
    return 0
