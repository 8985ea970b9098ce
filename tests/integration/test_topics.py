"""The registry on the real broker: every topic as declared; updates only grow and re-configure."""

from collections.abc import Callable

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from socialsvc_common.admin import ensure_topics, main
from socialsvc_common.contract.payloads import DeadLetter
from socialsvc_common.contract.topics import DAY_MS, REGISTRY, Topic

pytestmark = pytest.mark.integration


async def describe(
    bootstrap: str, names: list[str]
) -> tuple[dict[str, int], dict[str, dict[str, str]]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        partitions = {
            t["topic"]: len(t["partitions"])
            for t in await admin.describe_topics(names)
            if t["error_code"] == 0
        }
        resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in partitions]
        configs = {}
        for response in await admin.describe_configs(resources):
            for _code, _msg, _kind, name, entries in response.resources:
                configs[name] = {entry[0]: entry[1] for entry in entries}
        return partitions, configs
    finally:
        await admin.close()


async def test_every_registry_topic_exists_as_declared(bootstrap: str) -> None:
    partitions, configs = await describe(bootstrap, [t.name for t in REGISTRY])
    for topic in REGISTRY:
        assert partitions.get(topic.name) == topic.partitions, topic.name
        for key, value in topic.config().items():
            assert configs[topic.name][key] == value, (topic.name, key)


def test_the_make_step_reports_nothing_left_to_do(
    bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--bootstrap-servers", bootstrap, "--check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(REGISTRY)
    assert all(line.endswith("unchanged") for line in out)


async def test_ensure_creates_then_grows_and_reconfigures(
    bootstrap: str, unique: Callable[[str], str]
) -> None:
    first = Topic(
        unique("test.topics") + ".v1", DeadLetter, "test", partitions=2, retention_ms=DAY_MS
    )
    changes = await ensure_topics([bootstrap], [first])
    assert [c.action for c in changes] == ["created"]
    assert [c.action for c in await ensure_topics([bootstrap], [first])] == ["unchanged"]

    grown = Topic(first.name, DeadLetter, "test", partitions=4, retention_ms=2 * DAY_MS)
    actions = [c.action for c in await ensure_topics([bootstrap], [grown])]
    assert actions == ["partitions 2->4", "config retention.ms"]
    partitions, configs = await describe(bootstrap, [first.name])
    assert partitions[first.name] == 4
    assert configs[first.name]["retention.ms"] == str(2 * DAY_MS)

    shrunk = Topic(first.name, DeadLetter, "test", partitions=1, retention_ms=2 * DAY_MS)
    assert [c.action for c in await ensure_topics([bootstrap], [shrunk])] == ["too-many-partitions"]
    assert (await describe(bootstrap, [first.name]))[0][first.name] == 4
