"""The secure three-broker cluster enforces the access map: TLS on every listener, SASL/SCRAM logins
and ACL denials.

The module starts its own cluster (`kafkactl start cluster-secure`, ports 19094-39095) with data in
a temporary directory, creates the registry's topics and a public one, provisions users and ACLs
with `socialsvc-acls`' code, and stops the cluster at the end.
"""

import asyncio
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import confluent_kafka
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.conn import create_conn
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
)
from aiokafka.protocol.metadata import MetadataRequest
from pydantic import SecretStr

from socialsvc_common.acls import load_passwords, provision
from socialsvc_common.admin import ensure_topics
from socialsvc_common.apikeys import Role
from socialsvc_common.contract import topics
from socialsvc_common.contract.access import (
    ARCHIVE,
    EGOV,
    access_map,
    partner_access,
    partner_principal,
    registry_principal,
)
from socialsvc_common.contract.actor import Actor
from socialsvc_common.contract.payloads import DeadLetter, Registry
from socialsvc_common.kafka import make_broker, make_producer
from socialsvc_common.kafka_security import client_security
from socialsvc_common.partners import Register, issue, revoke
from socialsvc_common.secure_admin import admin_client, create_acls, upsert_scram_users
from socialsvc_common.settings import ServiceSettings

pytestmark = pytest.mark.integration
KAFKACTL = Path(__file__).parents[2] / "deploy" / "kafka" / "kafkactl"
BROKERS = ["127.0.0.1:19094", "127.0.0.1:29094", "127.0.0.1:39094"]
PUBLIC = topics.Topic("public.secure-test.v1", DeadLetter, "a public stream for this test only")
# The services and, for each, a topic another service writes and one it does not read.
FOREIGN = {
    "intake": (topics.DECISION_MADE, topics.DEAD_LETTERS["eligibility"]),
    "eligibility": (topics.PLACEMENT_MADE, topics.DECISION_MADE),
    "assignment": (topics.APPLICATION_RECEIVED, topics.PLACEMENT_MADE),
    "notifications": (topics.PLACEMENT_MADE, topics.NOTIFICATION_DELIVERED),
}


@dataclass(frozen=True)
class SecureCluster:
    passwords: dict[str, str]
    var: Path

    @property
    def cafile(self) -> Path:
        """The certificate authority kafkactl made for the cluster's TLS listeners."""
        return self.var / "kafka" / "cluster-secure" / "tls" / "ca.pem"

    def settings(self, principal: str, password: str | None = None) -> ServiceSettings:
        return ServiceSettings(
            kafka_bootstrap_servers=BROKERS,
            kafka_security_protocol="SASL_SSL",
            kafka_ssl_cafile=self.cafile,
            kafka_sasl_username=principal,
            kafka_sasl_password=SecretStr(password or self.passwords[principal]),
        )


def kafkactl(var: Path, command: str) -> None:
    result = subprocess.run(
        [str(KAFKACTL), command, "cluster-secure"],
        env={**os.environ, "SOCIALSVC_VAR": str(var)},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    var = tmp_path_factory.mktemp("secure-var")
    try:
        kafkactl(var, "start")
        yield var
    finally:
        kafkactl(var, "stop")


@pytest.fixture(scope="module")
async def cluster(started: Path) -> SecureCluster:
    admin_password = (started / "kafka" / "cluster-secure" / "admin.password").read_text()
    passwords = load_passwords(started / "principals.passwords", access_map())
    secure = SecureCluster({**passwords, "admin": admin_password}, started)
    admin = secure.settings("admin")
    await ensure_topics(BROKERS, (*topics.REGISTRY, PUBLIC), security=client_security(admin))
    await provision(admin, passwords)
    return secure


async def produce(settings: ServiceSettings, topic: topics.Topic, key: bytes) -> None:
    producer = make_producer(settings, client_id="secure-test")
    await producer.start()
    try:
        await producer.send_and_wait(topic.name, b"{}", key=key)
    finally:
        await producer.stop()


async def consumer(settings: ServiceSettings, topic: topics.Topic, group: str) -> AIOKafkaConsumer:
    client = AIOKafkaConsumer(
        topic.name,
        bootstrap_servers=BROKERS,
        group_id=group,
        auto_offset_reset="earliest",
        **client_security(settings),
    )
    try:
        await client.start()
    except BaseException:
        await client.stop()
        raise
    return client


async def keys_read(
    settings: ServiceSettings, topic: topics.Topic, group: str, until: bytes | None = None
) -> set[bytes]:
    """The keys read in one fetch, or (with `until`) in fetches until that key is among them:
    one fetch may bring some partitions only, and earlier tests leave records on others."""
    client = await consumer(settings, topic, group)
    try:
        seen: set[bytes] = set()
        deadline = time.monotonic() + 30
        while True:
            batches = await client.getmany(timeout_ms=10_000)
            seen |= {record.key for batch in batches.values() for record in batch if record.key}
            if until is None or until in seen or time.monotonic() > deadline:
                break
        await client.commit()
        return seen
    finally:
        await client.stop()


@pytest.fixture
async def admin_producer(cluster: SecureCluster) -> AsyncIterator[AIOKafkaProducer]:
    producer = make_producer(cluster.settings("admin"), client_id="secure-test-admin")
    await producer.start()
    yield producer
    await producer.stop()


@pytest.mark.parametrize("service", sorted(FOREIGN))
async def test_a_service_writes_its_own_topics_and_reads_what_it_consumes(
    cluster: SecureCluster, admin_producer: AIOKafkaProducer, service: str
) -> None:
    settings = cluster.settings(service)
    key = uuid.uuid4().hex.encode()
    for name in sorted(access_map()[service].writes):
        await produce(settings, topics.by_name(name), key)
    read = topics.by_name(sorted(access_map()[service].reads)[0])
    await admin_producer.send_and_wait(read.name, b"{}", key=key)
    assert key in await keys_read(settings, read, group=service, until=key)


@pytest.mark.parametrize("service", sorted(FOREIGN))
async def test_a_service_is_denied_other_services_topics(
    cluster: SecureCluster, service: str
) -> None:
    settings = cluster.settings(service)
    not_its_own, not_read = FOREIGN[service]
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(settings, not_its_own, b"k")
    with pytest.raises(TopicAuthorizationFailedError):
        await keys_read(settings, not_read, group=service)
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(settings, PUBLIC, b"k")


async def test_a_service_may_not_consume_in_another_services_group(
    cluster: SecureCluster,
) -> None:
    with pytest.raises(GroupAuthorizationFailedError):
        await keys_read(cluster.settings("eligibility"), topics.APPLICATION_RECEIVED, "assignment")


async def test_the_faststream_broker_of_a_service_logs_in_and_is_held_to_its_acls(
    cluster: SecureCluster,
) -> None:
    broker = make_broker(cluster.settings("assignment"), client_id="secure-test")
    async with broker:
        await broker.start()
        await broker.publish(b"{}", topics.PLACEMENT_MADE.name, key=b"k")
        with pytest.raises(TopicAuthorizationFailedError):
            await broker.publish(b"{}", topics.DECISION_MADE.name, key=b"k")


PERSON = Actor(role=Role.ADMINISTRATOR, name="secure-test")


async def issued(cluster: SecureCluster, name: str) -> ServiceSettings:
    """A partner organisation issued its own principal, as `socialsvc-partners issue` does."""
    register = Register(cluster.var / "partners.jsonl")
    password = await issue(cluster.settings("admin"), register, name, f"{name} NGO", PERSON)
    return cluster.settings(partner_principal(name), password)


async def test_a_partner_reads_public_topics_and_nothing_else(
    cluster: SecureCluster, admin_producer: AIOKafkaProducer
) -> None:
    partner = await issued(cluster, "umid")
    key = uuid.uuid4().hex.encode()
    await admin_producer.send_and_wait(PUBLIC.name, b"{}", key=key)
    group = f"partner-umid-{key.decode()}"
    assert key in await keys_read(partner, PUBLIC, group=group)
    with pytest.raises(TopicAuthorizationFailedError):
        await keys_read(partner, topics.APPLICATION_RECEIVED, group=group)
    with pytest.raises(GroupAuthorizationFailedError):
        await keys_read(partner, PUBLIC, group="intake")
    # Without a write ACL anywhere, even an idempotent producer's first request is refused.
    with pytest.raises(ClusterAuthorizationFailedError):
        await produce(partner, PUBLIC, key)
    plain = AIOKafkaProducer(bootstrap_servers=BROKERS, **client_security(partner))
    await plain.start()
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            await plain.send_and_wait(PUBLIC.name, b"{}", key=key)
    finally:
        await plain.stop()


async def test_partners_keep_to_their_own_groups_and_a_revoked_one_is_shut_out(
    cluster: SecureCluster, admin_producer: AIOKafkaProducer
) -> None:
    humay, bridge = await issued(cluster, "humay"), await issued(cluster, "bridge")
    key = uuid.uuid4().hex.encode()
    await admin_producer.send_and_wait(PUBLIC.name, b"{}", key=key)
    assert key in await keys_read(bridge, PUBLIC, group="partner-bridge-news", until=key)
    # One partner can neither join nor read the offsets of another's group.
    with pytest.raises(GroupAuthorizationFailedError):
        await keys_read(humay, PUBLIC, group="partner-bridge-news")
    # Provisioning the cluster again keeps issued partners and leaves their passwords alone.
    register = Register(cluster.var / "partners.jsonl")
    passwords = {n: p for n, p in cluster.passwords.items() if n != "admin"}
    await provision(cluster.settings("admin"), passwords, access_map(register.current()))
    assert key in await keys_read(humay, PUBLIC, group="partner-humay-news", until=key)

    await revoke(cluster.settings("admin"), register, "humay", PERSON)
    with pytest.raises(SaslAuthenticationFailed):
        await one_connection(**client_security(humay))
    assert key in await keys_read(bridge, PUBLIC, group="partner-bridge-later", until=key)
    entries = [(e.partner, e.action, e.by) for e in register.entries()]
    assert ("humay", "revoked", "administrator:secure-test") in entries
    assert "humay" not in register.current()


async def test_provisioning_takes_the_retired_shared_partner_away(
    cluster: SecureCluster, admin_producer: AIOKafkaProducer
) -> None:
    # The one `partner` principal of earlier releases, with its password and ACLs.
    admin = cluster.settings("admin")
    shared = partner_access("partner")
    client = await admin_client(admin, "secure-test")
    try:
        await upsert_scram_users(client, {"partner": "an-old-password"})
        await create_acls(client, sorted(shared.grants()))
    finally:
        await client.close()
    old = cluster.settings("partner", "an-old-password")
    key = uuid.uuid4().hex.encode()
    await admin_producer.send_and_wait(PUBLIC.name, b"{}", key=key)
    assert key in await keys_read(old, PUBLIC, group="partner-anything", until=key)

    passwords = {n: p for n, p in cluster.passwords.items() if n != "admin"}
    report = await provision(admin, passwords)
    assert "revoked partner: read topic public. (prefix)" in report
    with pytest.raises(SaslAuthenticationFailed):
        await one_connection(**client_security(old))


async def test_the_egov_gateway_writes_submissions_and_nothing_else(
    cluster: SecureCluster,
) -> None:
    egov = cluster.settings(EGOV)
    await produce(egov, topics.EGOV_APPLICATION_SUBMITTED, uuid.uuid4().hex.encode())
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(egov, topics.APPLICATION_RECEIVED, b"k")
    # It has no consumer group, and could not read the topic in one.
    with pytest.raises(GroupAuthorizationFailedError):
        await keys_read(egov, topics.EGOV_APPLICATION_SUBMITTED, group="egov")


async def test_a_registry_writes_its_own_life_events_and_nothing_else(
    cluster: SecureCluster,
) -> None:
    justice = cluster.settings(registry_principal(Registry.JUSTICE))
    await produce(justice, topics.LIFE_EVENTS[Registry.JUSTICE], uuid.uuid4().hex.encode())
    # Another registry's topic would let it vouch for events it does not keep.
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(justice, topics.LIFE_EVENTS[Registry.POPULATION], b"k")
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(justice, topics.EGOV_APPLICATION_SUBMITTED, b"k")


async def test_the_archive_reads_every_topic_in_its_own_group_and_writes_nothing(
    cluster: SecureCluster, admin_producer: AIOKafkaProducer
) -> None:
    archive = cluster.settings(ARCHIVE)
    for topic in (topics.DECISION_MADE, topics.DEAD_LETTERS["assignment"], PUBLIC):
        key = uuid.uuid4().hex.encode()
        await admin_producer.send_and_wait(topic.name, b"{}", key=key)
        assert key in await keys_read(archive, topic, group=ARCHIVE, until=key)
    # With no topic to write, the broker refuses it an idempotent producer's id at once.
    with pytest.raises(ClusterAuthorizationFailedError):
        await produce(archive, topics.DECISION_MADE, b"k")
    with pytest.raises(GroupAuthorizationFailedError):
        await keys_read(archive, topics.DECISION_MADE, group="assignment")


GUIDE = Path(__file__).parents[2] / "docs" / "examples" / "read_public_topic.py"
KAFKA_LIBS = Path(__file__).parents[2] / "deploy" / "kafka" / ".cache" / "libs"


def read_with_the_example(partner: ServiceSettings) -> subprocess.CompletedProcess[str]:
    """The partners' guide's aiokafka example, logged in as the partner."""
    assert partner.kafka_sasl_password is not None
    return subprocess.run(
        [
            sys.executable,
            str(GUIDE),
            f"--bootstrap={','.join(BROKERS)}",
            f"--username={partner.kafka_sasl_username}",
            f"--ca-file={partner.kafka_ssl_cafile}",
            "--group=partner-guide-aiokafka",
            "--idle-seconds=5",
            PUBLIC.name,
        ],
        env={**os.environ, "KAFKA_PASSWORD": partner.kafka_sasl_password.get_secret_value()},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def read_with_librdkafka(partner: ServiceSettings, group: str, until: bytes) -> set[bytes]:
    """The keys on PUBLIC, read by confluent-kafka (librdkafka) as the partners' guide says,
    until `until` is among them (or 30 s)."""
    assert partner.kafka_sasl_password is not None
    client = confluent_kafka.Consumer(
        {
            "bootstrap.servers": ",".join(BROKERS),
            "group.id": group,
            "auto.offset.reset": "earliest",
            "security.protocol": "SASL_SSL",
            "ssl.ca.location": str(partner.kafka_ssl_cafile),
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": partner.kafka_sasl_username,
            "sasl.password": partner.kafka_sasl_password.get_secret_value(),
        }
    )
    client.subscribe([PUBLIC.name])
    try:
        keys: set[bytes] = set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            message = client.poll(1.0)
            if message is None:
                continue
            assert message.error() is None, message.error()
            keys.add(message.key() or b"")
            if until in keys:
                break
        return keys
    finally:
        client.close()


def read_with_java_console(partner: ServiceSettings, group: str, directory: Path) -> str:
    """What Kafka's own console consumer prints of PUBLIC, logged in with a client.properties
    file as the partners' guide shows."""
    assert partner.kafka_sasl_password is not None
    properties = directory / f"{group}.properties"
    properties.write_text(
        "security.protocol=SASL_SSL\n"
        "ssl.truststore.type=PEM\n"
        f"ssl.truststore.location={partner.kafka_ssl_cafile}\n"
        "sasl.mechanism=SCRAM-SHA-512\n"
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{partner.kafka_sasl_username}" '
        f'password="{partner.kafka_sasl_password.get_secret_value()}";\n'
    )
    properties.chmod(0o600)
    done = subprocess.run(
        [
            "java",
            "-cp",
            f"{KAFKA_LIBS}/*",
            "org.apache.kafka.tools.consumer.ConsoleConsumer",
            f"--bootstrap-server={BROKERS[0]}",
            f"--topic={PUBLIC.name}",
            f"--group={group}",
            "--from-beginning",
            f"--consumer.config={properties}",
            "--property=print.key=true",
            # Ends this long after the last record; joining the group under `make test`'s two
            # workers has taken more than 4 s.
            "--timeout-ms=12000",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.stdout


async def test_the_partners_guide_clients_read_as_a_partner_over_sasl(
    cluster: SecureCluster, admin_producer: AIOKafkaProducer, tmp_path: Path
) -> None:
    partner = await issued(cluster, "guide")
    assert partner.kafka_sasl_password is not None
    key = uuid.uuid4().hex.encode()
    await admin_producer.send_and_wait(PUBLIC.name, b"{}", key=key)
    example = await asyncio.to_thread(read_with_the_example, partner)
    assert example.returncode == 0, example.stderr
    assert key.decode() in example.stdout
    group = "partner-guide-rdkafka"
    librdkafka = await asyncio.to_thread(read_with_librdkafka, partner, group, key)
    assert key in librdkafka
    java = await asyncio.to_thread(read_with_java_console, partner, "partner-guide-java", tmp_path)
    assert key.decode() in java
    # The same console consumer outside the partner's own groups is refused.
    refused = await asyncio.to_thread(read_with_java_console, partner, "intake", tmp_path)
    assert key.decode() not in refused


def ops_tool(
    cluster: SecureCluster, *args: str, login: bool = True
) -> subprocess.CompletedProcess[str]:
    """socialsvc-ops on the secure cluster, logged in as the operator (or not at all)."""
    env = {**os.environ, "SOCIALSVC_KAFKA_BOOTSTRAP_SERVERS": ",".join(BROKERS)}
    if login:
        env |= {
            "SOCIALSVC_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "SOCIALSVC_KAFKA_SSL_CAFILE": str(cluster.cafile),
            "SOCIALSVC_KAFKA_SASL_USERNAME": "operator",
            "SOCIALSVC_KAFKA_SASL_PASSWORD": cluster.passwords["operator"],
        }
    return subprocess.run(
        [sys.executable, "-m", "socialsvc_ops", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_the_operators_tool_logs_in_as_the_operator(
    cluster: SecureCluster, admin_producer: AIOKafkaProducer
) -> None:
    key = uuid.uuid4().hex.encode()
    await admin_producer.send_and_wait(topics.APPLICATION_RECEIVED.name, b"{}", key=key)
    assert key in await keys_read(
        cluster.settings("eligibility"), topics.APPLICATION_RECEIVED, "eligibility", until=key
    )
    lag = await asyncio.to_thread(ops_tool, cluster, "lag", "--json")
    assert lag.returncode == 0, lag.stderr
    groups = {json.loads(line)["group"] for line in lag.stdout.splitlines() if line.startswith("{")}
    assert "eligibility" in groups
    # Without a login the secure cluster does not answer it at all.
    refused = await asyncio.to_thread(ops_tool, cluster, "lag", "--json", login=False)
    assert refused.returncode != 0
    assert "eligibility" not in refused.stdout


async def one_connection(**security: Any) -> None:
    """Logs in on one broker connection, as aiokafka does before any request, and asks for
    metadata: the login's own error surfaces here, where a client would only fail to bootstrap."""
    connection = await create_conn("127.0.0.1", 19094, request_timeout_ms=5000, **security)
    try:
        await connection.send(MetadataRequest([]))
    finally:
        connection.close()


@pytest.mark.parametrize(("principal", "password"), [("intake", "wrong"), ("nobody", "any")])
async def test_a_wrong_password_or_unknown_user_fails_authentication(
    cluster: SecureCluster, principal: str, password: str
) -> None:
    settings = cluster.settings(principal, password)
    with pytest.raises(SaslAuthenticationFailed):
        await one_connection(**client_security(settings))
    with pytest.raises(KafkaConnectionError):
        await produce(settings, topics.APPLICATION_RECEIVED, b"k")


async def test_an_unauthenticated_client_is_refused(cluster: SecureCluster) -> None:
    with pytest.raises(KafkaConnectionError, match="closed"):
        await one_connection()
    plain = ServiceSettings(kafka_bootstrap_servers=BROKERS)
    with pytest.raises(KafkaConnectionError):
        await produce(plain, topics.APPLICATION_RECEIVED, b"k")


def test_every_listener_speaks_tls_with_the_clusters_certificate(cluster: SecureCluster) -> None:
    trusting = ssl.create_default_context(cafile=cluster.cafile)
    for port in (19094, 19095, 29094, 29095, 39094, 39095):  # clients and brokers, controllers
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            trusting.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            certificate = tls.getpeercert()
            assert certificate is not None, port
            assert ("IP Address", "127.0.0.1") in certificate["subjectAltName"], port


async def test_a_client_checks_the_brokers_certificate_and_tls_is_required(
    cluster: SecureCluster,
) -> None:
    login = client_security(cluster.settings("intake"))
    await one_connection(**login)
    # Trusting only the system's authorities, a client refuses the cluster's certificate.
    with pytest.raises((KafkaConnectionError, ssl.SSLCertVerificationError)):
        await one_connection(**(login | {"ssl_context": ssl.create_default_context()}))
    # The same login without TLS gets nowhere.
    plaintext = {k: v for k, v in login.items() if k != "ssl_context"}
    with pytest.raises(KafkaConnectionError):
        await one_connection(**(plaintext | {"security_protocol": "SASL_PLAINTEXT"}))


def test_no_password_reaches_a_broker_log(cluster: SecureCluster) -> None:
    logs = "".join(path.read_text() for path in (cluster.var / "log").glob("kafka-*.log"))
    assert "Kafka Server started" in logs
    for password in cluster.passwords.values():
        assert password not in logs
