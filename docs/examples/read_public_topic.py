"""Read the platform's partner streams with a plain Kafka client (aiokafka, nothing of ours).

    pip install aiokafka
    python read_public_topic.py --bootstrap 127.0.0.1:9092 --group my-ngo \
        public.application.placed.v1 public.application.released.v1

Prints one JSON line per event: topic, the pseudonymous application id (the key and ce_subject),
the CloudEvents type, id and time, and the payload. With --group the offsets are committed after
each batch is printed, so a restart goes on where it stopped (at least once: use ce_id to drop a
repeat). With --since the topics are read from the start of the hour that time falls in (public
records carry the hour, not the moment), without a group.

On the ministry's secure cluster, log in as your organisation's principal: --username
partner-<name>, with the password in the environment variable KAFKA_PASSWORD (never on the
command line), over TLS (SASL_SSL) and SCRAM-SHA-512. --ca-file is the certificate authority the
ministry gave you for its brokers (without it, the system's authorities are trusted).
"""

import argparse
import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.helpers import create_ssl_context


def event_of(record: ConsumerRecord[bytes, bytes]) -> dict[str, Any]:
    """The event in a record: CloudEvents headers (binary mode) beside a JSON value."""
    headers = {key: value.decode() for key, value in record.headers if value is not None}
    return {
        "topic": record.topic,
        "application_ref": record.key.decode() if record.key else None,
        "type": headers.get("ce_type"),
        "id": headers.get("ce_id"),
        "time": headers.get("ce_time"),
        "payload": json.loads(record.value) if record.value else None,
    }


async def seek_to_time(consumer: AIOKafkaConsumer, since: datetime) -> None:
    """Moves every partition to the first record of the hour `since` falls in: public records
    carry the hour they happened in, not the exact moment, as their time."""
    # Without a group the consumer is given every partition of its topics when it starts.
    partitions = list(consumer.assignment())
    if not partitions:
        raise SystemExit("none of these topics exists on this cluster")
    hour = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    found = await consumer.offsets_for_times(
        dict.fromkeys(partitions, int(hour.timestamp() * 1000))
    )
    ends = await consumer.end_offsets(partitions)
    for tp in partitions:
        consumer.seek(tp, found[tp].offset if found.get(tp) else ends[tp])


def login(username: str | None, ca_file: str | None) -> dict[str, Any]:
    """The client's TLS and SASL/SCRAM settings for `username`, with the password from
    KAFKA_PASSWORD."""
    if username is None:
        return {}
    password = os.environ.get("KAFKA_PASSWORD")
    if not password:
        raise SystemExit("set KAFKA_PASSWORD to your principal's password")
    return {
        "security_protocol": "SASL_SSL",
        "ssl_context": create_ssl_context(cafile=ca_file),
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": username,
        "sasl_plain_password": password,
    }


async def read(args: argparse.Namespace) -> int:
    consumer = AIOKafkaConsumer(
        *args.topics,
        bootstrap_servers=args.bootstrap,
        group_id=args.group,
        auto_offset_reset="earliest",  # a new group reads what the topics still hold
        enable_auto_commit=False,
        isolation_level="read_committed",
        **login(args.username, args.ca_file),
    )
    await consumer.start()
    count = 0
    try:
        if args.since:
            await seek_to_time(consumer, args.since)
        idle = 0.0
        while args.idle_seconds is None or idle < args.idle_seconds:
            batches = await consumer.getmany(timeout_ms=500)
            idle = 0.0 if batches else idle + 0.5
            for records in batches.values():
                for record in records:
                    try:
                        event = event_of(record)
                    except ValueError:  # not JSON text: say which record, and go on
                        where = (
                            f"{record.topic} partition {record.partition} offset {record.offset}"
                        )
                        print(f"skipped {where}: not a JSON event", file=sys.stderr)
                        continue
                    print(json.dumps(event, ensure_ascii=False), flush=True)
                    count += 1
            if batches and args.group:
                await consumer.commit()
    finally:
        await consumer.stop()
    print(f"{count} events", file=sys.stderr)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("topics", nargs="+", help="public.* topics to read")
    parser.add_argument("--bootstrap", default="127.0.0.1:9092", help="host:port[,host:port]")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--group", help="your consumer group (offsets kept by Kafka)")
    source.add_argument("--since", type=datetime.fromisoformat, help="ISO time, e.g. 2026-01-31")
    parser.add_argument(
        "--idle-seconds", type=float, default=None, help="stop after this long without events"
    )
    parser.add_argument(
        "--username", help="your principal on a secure cluster, partner-<name> (KAFKA_PASSWORD)"
    )
    parser.add_argument("--ca-file", help="the brokers' certificate authority (PEM)")
    return asyncio.run(read(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
