"""SCRAM users and ACLs over Kafka's admin protocol, which aiokafka's admin client lacks.

aiokafka 0.14 ships the wire structs of CreateAcls, DescribeAcls and DeleteAcls but no method that
sends them, and nothing at all for AlterUserScramCredentials (API 51). The structs below are
written from the Kafka protocol guide (kafka.apache.org/protocol); the requests go through the
admin client's own connections, so SASL and retries work as for every other client here.
Kafka's own tools would do the same from a JVM that takes seconds to start for each call.
"""

import asyncio
import hashlib
import os
from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import for_code
from aiokafka.protocol.admin import (
    CreateAclsRequest,
    DeleteAclsRequest,
    DescribeAclsRequest,
)
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    CompactArray,
    CompactBytes,
    CompactString,
    Int8,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)

from socialsvc_common.contract.access import Grant, Operation, Pattern, Resource
from socialsvc_common.kafka_security import client_security
from socialsvc_common.settings import ServiceSettings

SCRAM_SHA_512 = 2  # mechanism code of AlterUserScramCredentials
SCRAM_ITERATIONS = 8192
SALT_BYTES = 32
# Codes of Kafka's AclBinding enums (ResourceType, PatternType, AclOperation, AclPermissionType).
RESOURCE_CODES = {Resource.TOPIC: 2, Resource.GROUP: 3}
PATTERN_CODES = {Pattern.LITERAL: 3, Pattern.PREFIXED: 4}
OPERATION_CODES = {Operation.READ: 3, Operation.WRITE: 4, Operation.DESCRIBE: 8}
ANY, ALLOW = 1, 3
RESOURCE_NOT_FOUND = 91  # Kafka's error code; aiokafka does not know it
ANY_HOST = "*"
ADMIN_TIMEOUT_MS = 30_000
PROPAGATION_SECONDS = 30.0


class SecurityAdminError(RuntimeError):
    """The cluster refused a user or ACL change; the message names which and why."""


# aiokafka has no type information (mypy sees Any), hence the ignores on the subclasses.
class AlterUserScramCredentialsResponse_v0(Response):  # type: ignore[misc]
    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            CompactArray(
                ("user_name", CompactString("utf-8")),
                ("error_code", Int16),
                ("error_message", CompactString("utf-8")),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class AlterUserScramCredentialsRequest_v0(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 51
    API_VERSION = 0
    RESPONSE_TYPE = AlterUserScramCredentialsResponse_v0
    SCHEMA = Schema(
        (
            "deletions",
            CompactArray(
                ("name", CompactString("utf-8")), ("mechanism", Int8), ("tags", TaggedFields)
            ),
        ),
        (
            "upsertions",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("mechanism", Int8),
                ("iterations", Int32),
                ("salt", CompactBytes),
                ("salted_password", CompactBytes),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class AlterUserScramCredentials(Request[AlterUserScramCredentialsRequest_v0]):  # type: ignore[misc]
    API_KEY = 51

    def __init__(
        self, upsertions: list[tuple[Any, ...]], deletions: Sequence[tuple[Any, ...]] = ()
    ) -> None:
        self._upsertions = upsertions
        self._deletions = list(deletions)

    def build(
        self, request_struct_class: type[AlterUserScramCredentialsRequest_v0]
    ) -> AlterUserScramCredentialsRequest_v0:
        return request_struct_class(self._deletions, self._upsertions, {})


def salted_password(password: str, salt: bytes, iterations: int = SCRAM_ITERATIONS) -> bytes:
    """SCRAM's Hi(password, salt, i) (RFC 5802) for SHA-512: what the broker stores keys from."""
    return hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)


def _check(code: int, message: str | None, what: str) -> None:
    if code:
        raise SecurityAdminError(f"{what}: {for_code(code).__name__}: {message or ''}")


async def upsert_scram_users(admin: AIOKafkaAdminClient, passwords: dict[str, str]) -> None:
    """Creates or resets the SCRAM-SHA-512 credential of each user (only salted keys travel)."""
    upsertions: list[tuple[Any, ...]] = []
    for user, password in sorted(passwords.items()):
        salt = os.urandom(SALT_BYTES)
        upsertions.append(
            (user, SCRAM_SHA_512, SCRAM_ITERATIONS, salt, salted_password(password, salt), {})
        )
    response = await admin._send_to_controller(AlterUserScramCredentials(upsertions))
    for user, code, message, _tags in response.results:
        _check(code, message, f"setting the credential of {user}")


async def delete_scram_users(
    admin: AIOKafkaAdminClient, users: list[str], *, missing_ok: bool = False
) -> None:
    """Removes the SCRAM-SHA-512 credential of each user: none of them can log in again. With
    `missing_ok`, a user without one is no error."""
    deletions: list[tuple[Any, ...]] = [(user, SCRAM_SHA_512, {}) for user in sorted(users)]
    response = await admin._send_to_controller(AlterUserScramCredentials([], deletions))
    for user, code, message, _tags in response.results:
        if not (missing_ok and code == RESOURCE_NOT_FOUND):
            _check(code, message, f"removing the credential of {user}")


def _acl(grant: Grant) -> tuple[int, str, int, str, str, int, int]:
    return (
        RESOURCE_CODES[grant.resource],
        grant.name,
        PATTERN_CODES[grant.pattern],
        f"User:{grant.principal}",
        ANY_HOST,
        OPERATION_CODES[grant.operation],
        ALLOW,
    )


async def create_acls(admin: AIOKafkaAdminClient, grants: list[Grant]) -> None:
    """Adds ALLOW ACLs; one that exists already is left as it is."""
    for grant in grants:
        response = await admin._send_request(CreateAclsRequest(*_acl(grant)))
        for code, message in response.creation_responses:
            _check(code, message, f"granting {grant}")


async def delete_acls(admin: AIOKafkaAdminClient, grants: list[Grant]) -> None:
    """Removes exactly these ACLs."""
    for grant in grants:
        response = await admin._send_request(DeleteAclsRequest(*_acl(grant)))
        for code, message, _matching in response.filter_responses:
            _check(code, message, f"revoking {grant}")


async def describe_acls(
    admin: AIOKafkaAdminClient, principal: str, node_id: int | None = None
) -> set[Grant]:
    """The ALLOW ACLs of one principal on topics and groups, as one broker (or any) sees them."""
    request = DescribeAclsRequest(ANY, None, ANY, f"User:{principal}", None, ANY, ALLOW)
    if node_id is None:
        response = await admin._send_request(request)
    else:
        response = await admin._send_request_to_node(node_id, request)
    _check(response.error_code, response.error_message, f"listing the ACLs of {principal}")
    resources = {code: kind for kind, code in RESOURCE_CODES.items()}
    patterns = {code: kind for kind, code in PATTERN_CODES.items()}
    operations = {code: kind for kind, code in OPERATION_CODES.items()}
    found: set[Grant] = set()
    for kind, name, pattern, acls in response.resources:
        for _principal, _host, operation, _permission in acls:
            if kind not in resources or pattern not in patterns or operation not in operations:
                raise SecurityAdminError(
                    f"{principal} has an ACL this tool does not manage: resource type {kind} "
                    f"{name!r}, pattern {pattern}, operation {operation}; remove it by hand"
                )
            found.add(
                Grant(principal, resources[kind], name, patterns[pattern], operations[operation])
            )
    return found


async def admin_client(settings: ServiceSettings, client_id: str) -> AIOKafkaAdminClient:
    """A started admin client that logs in as `settings` say (the super user)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=client_id,
        request_timeout_ms=ADMIN_TIMEOUT_MS,
        **client_security(settings),
    )
    try:
        await admin.start()
    except BaseException:
        await admin.close()
        raise
    return admin


async def wait_until_enforced(admin: AIOKafkaAdminClient, wanted: Mapping[str, set[Grant]]) -> None:
    """Returns once every broker shows exactly these ACLs for each principal."""
    # ACLs reach each broker through the metadata log a moment after the controller took them.
    brokers = [broker["node_id"] for broker in (await admin.describe_cluster())["brokers"]]
    deadline = asyncio.get_running_loop().time() + PROPAGATION_SECONDS
    for node in brokers:
        for principal, grants in wanted.items():
            while await describe_acls(admin, principal, node) != grants:
                if asyncio.get_running_loop().time() > deadline:
                    raise SecurityAdminError(f"broker {node} does not show {principal}'s ACLs")
                await asyncio.sleep(0.1)
