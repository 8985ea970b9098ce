"""Report life events to the platform as a state registry, with a plain Kafka client (aiokafka,
nothing of ours).

    pip install aiokafka
    python report_life_event.py --bootstrap 127.0.0.1:9092 --registry justice events.jsonl

Each line of the file is one of the registry's records: the JSON of a life event, as its schema
says (libs/common/src/socialsvc_common/contract/schemas/registry.<registry>.recorded.v1.json). It
goes to registry.<registry>.recorded.v1 as a CloudEvent in binary mode: ce_* headers (a new id,
the type, the source, the time, and as the subject the life event's id) and the JSON as the
value. The life event's id is the UUID v5 of "<registry>:<reference>" in the platform's namespace;
a record under another subject is refused. A record sent again is harmless: the platform takes
each registry and reference once. Prints one line per record: its reference, partition and
offset.

On the ministry's secure cluster, log in as the registry's principal: --username
registry-<name>, the password in KAFKA_PASSWORD, --ca-file as in read_public_topic.py.
"""

import argparse
import asyncio
import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer
from read_public_topic import login

# The platform's namespace of life event ids (LIFE_EVENT_NAMESPACE in its contract).
LIFE_EVENT_NAMESPACE = uuid.UUID("6c1f0f8e-3d6b-4f0e-9b7a-1d2c5e8a4b37")


def headers(topic: str, registry: str, subject: str) -> list[tuple[str, bytes]]:
    """The CloudEvents headers of one record: its type is the topic's name without `.v1`."""
    found = {
        "ce_specversion": "1.0",
        "ce_id": str(uuid.uuid4()),
        "ce_type": topic.removesuffix(".v1"),
        "ce_source": f"registry/{registry}",
        "ce_time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "ce_subject": subject,
        "content-type": "application/json",
    }
    return [(key, value.encode()) for key, value in found.items()]


async def report(args: argparse.Namespace) -> int:
    topic = f"registry.{args.registry}.recorded.v1"
    producer = AIOKafkaProducer(
        bootstrap_servers=args.bootstrap,
        enable_idempotence=True,
        acks="all",
        **login(args.username, args.ca_file),
    )
    await producer.start()
    try:
        for line in args.events.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            reference = json.loads(line)["reference"]
            # The key too, as on every topic of the platform.
            subject = str(uuid.uuid5(LIFE_EVENT_NAMESPACE, f"{args.registry}:{reference}"))
            sent = await producer.send_and_wait(
                topic,
                line.encode(),
                key=subject.encode(),
                headers=headers(topic, args.registry, subject),
            )
            print(f"{reference} {sent.partition}:{sent.offset}", flush=True)
    finally:
        await producer.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument(
        "--registry", required=True, choices=["population", "education", "justice", "disability"]
    )
    parser.add_argument("--username", help="the registry's principal on a secure cluster")
    parser.add_argument("--ca-file", help="the brokers' certificate authority (PEM)")
    parser.add_argument("events", type=Path, help="one life event a line (JSON)")
    return asyncio.run(report(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
