"""A consumer process built with the platform's factory, for the crash test.

    python crash_consumer.py BOOTSTRAP TOPIC GROUP MODE MARKER

Every record it receives is appended to MARKER as "<partition>:<offset>". MODE "hang" never finishes
the handler (the test kills the process mid-record); MODE "finish" returns normally.
"""

import asyncio
import sys
from pathlib import Path

from faststream import FastStream
from faststream.kafka import KafkaMessage

from socialsvc_common.contract.payloads import DeadLetter
from socialsvc_common.contract.topics import Topic
from socialsvc_common.kafka import make_broker, record_of, subscriber
from socialsvc_common.settings import ServiceSettings


def note(marker: Path, line: str) -> None:
    with marker.open("a") as out:
        out.write(line + "\n")


def main() -> None:
    bootstrap, topic_name, group, mode, marker = sys.argv[1:6]
    broker = make_broker(ServiceSettings(kafka_bootstrap_servers=bootstrap), client_id="crash-test")
    topic = Topic(topic_name, DeadLetter, "crash test topic")

    @subscriber(broker, topic, group_id=group)
    async def handle(message: KafkaMessage) -> None:
        record = record_of(message)
        await asyncio.to_thread(note, Path(marker), f"{record.partition}:{record.offset}")
        if mode == "hang":
            await asyncio.Event().wait()

    asyncio.run(FastStream(broker).run())


if __name__ == "__main__":
    main()
