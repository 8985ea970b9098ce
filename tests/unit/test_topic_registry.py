import re

from pydantic import BaseModel

from socialsvc_common.contract.topics import CONSUMERS, DEAD_LETTERS, REGISTRY, by_name

NAME = re.compile(r"^[a-z]+\.[a-z]+\.[a-z]+\.v[1-9][0-9]*$")


def test_every_topic_is_named_owner_entity_event_version() -> None:
    for topic in REGISTRY:
        assert NAME.match(topic.name), topic.name
        assert topic.owner in (*CONSUMERS, "egov", "registry", "ops", "public")
        assert topic.major_version >= 1


def test_topics_are_declared_once_with_a_payload_model() -> None:
    names = [topic.name for topic in REGISTRY]
    assert len(names) == len(set(names))
    for topic in REGISTRY:
        assert issubclass(topic.payload, BaseModel)
        assert topic.partitions >= 1
        assert topic.config()["retention.ms"] == str(topic.retention_ms)


def test_every_consumer_has_a_dead_letter_topic() -> None:
    assert set(DEAD_LETTERS) == set(CONSUMERS)
    assert by_name("eligibility.record.deadlettered.v1") is DEAD_LETTERS["eligibility"]
