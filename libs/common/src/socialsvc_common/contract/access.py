"""Who may read and write what on a secure cluster: the access map, declared once.

Each service is a Kafka principal of its own name. It reads exactly the topics its consumer
subscribes to (a unit test holds the two together), writes the registry topics it owns (its events
and its dead-letter topic) and consumes in one group named after it. The e-government gateway
(`egov`) writes the inbound submissions and nothing else. Each partner organisation is a principal
of its own, `partner-<name>`: it reads `public.*` and nothing else, in consumer groups of its own
(`partner-<name>-*`), so one partner can neither use nor see another's. The operator (the ops tool)
reads every topic, looks at every group's offsets, and writes only where a replayed dead letter
goes back to (the topics the services consume) and its record of each replay. The audit archive
(`archive`) reads every topic in its one group and writes nothing; replaying from it is the
operator's act. Each state registry (`registry-<name>`) writes the life events it records on a
topic of its own, and nothing else.

`socialsvc-acls` turns this map into SCRAM users and ACLs, with the partners `socialsvc-partners`
issued; nothing else grants access.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from socialsvc_common.contract import topics as t
from socialsvc_common.contract.payloads import Registry

ALL = "*"  # Kafka's wildcard resource name: every topic (or group)
PUBLIC_PREFIX = "public."
OPERATOR = "operator"
EGOV = "egov"
ARCHIVE = "archive"
# A state registry's principal is this and its name (payloads.Registry).
REGISTRY_PREFIX = "registry-"
# Principals the platform once had: provisioning takes their credentials and ACLs away. The one
# shared `partner` gave way to a principal per partner organisation.
RETIRED_PRINCIPALS = ("partner",)
# A partner organisation's principal is this and its name; its consumer groups start with that
# and a dash. The ops tool's own tails consume in groups starting with OPERATOR_GROUP_PREFIX.
PARTNER_PREFIX = "partner-"
OPERATOR_GROUP_PREFIX = "ops-"

SERVICE_READS: dict[str, tuple[t.Topic, ...]] = {
    "intake": (
        t.EGOV_APPLICATION_SUBMITTED,
        *t.LIFE_EVENTS.values(),
        t.PRESCREEN_MADE,
        t.DECISION_MADE,
        t.PLACEMENT_MADE,
        t.PLACEMENT_WAITLISTED,
        t.PLACEMENT_UPDATED,
        t.PLACEMENT_REFUSED,
        t.PLACEMENT_RELEASED,
        t.NOTIFICATION_DELIVERED,
        t.NOTIFICATION_FAILED,
        t.HOME_VISIT_REQUESTED,
    ),
    "eligibility": (
        *t.LIFE_EVENTS.values(),
        t.APPLICATION_RECEIVED,
        t.SUBJECT_ERASED,
        t.CONSENT_WITHDRAWN,
        t.PLACEMENT_REFUSED,
        t.PLACEMENT_RELEASED,
        t.REVIEW_DUE,
    ),
    "assignment": (t.DECISION_MADE, t.SUBJECT_ERASED, t.CONSENT_WITHDRAWN),
    "notifications": (
        t.APPLICATION_RECEIVED,
        t.OFFER_MADE,
        t.CONSENT_WITHDRAWN,
        t.INFORMATION_REMINDED,
        t.APPLICATION_EXPIRED,
        t.DECISION_MADE,
        t.PLACEMENT_MADE,
        t.PLACEMENT_WAITLISTED,
        t.PLACEMENT_UPDATED,
        t.PLACEMENT_REFUSED,
        t.PLACEMENT_RELEASED,
        t.SUBJECT_ERASED,
        t.APPEAL_LODGED,
        t.APPEAL_DECIDED,
        t.REVIEW_DUE,
        t.REVIEW_CONCLUDED,
    ),
    # The figures for the ministry: no personal data, so an application's receipt comes from its
    # public twin; the rest is what each step of the application did, and the funnel of proactive
    # services from the identity-free pre-screens of life events and statuses of their offers.
    "statistics": (
        t.PUBLIC_APPLICATION_RECEIVED,
        t.PRESCREEN_MADE,
        t.OFFER_UPDATED,
        t.DECISION_MADE,
        t.PLACEMENT_MADE,
        t.PLACEMENT_UPDATED,
        t.PLACEMENT_RELEASED,
        t.PLACEMENT_WAITLISTED,
        t.PUBLIC_PROVIDER_CHANGED,
        t.NOTIFICATION_DELIVERED,
        t.NOTIFICATION_FAILED,
        t.APPEAL_LODGED,
        t.APPEAL_DECIDED,
        t.CONSENT_WITHDRAWN,
    ),
}


def service_inputs() -> dict[str, list[str]]:
    """The topic names each service's consumer group reads, by service."""
    return {service: [topic.name for topic in read] for service, read in SERVICE_READS.items()}


# The partner streams each service feeds, beside the topics it owns.
PUBLIC_WRITES: dict[str, tuple[t.Topic, ...]] = {
    "intake": (t.PUBLIC_APPLICATION_RECEIVED,),
    "eligibility": (t.PUBLIC_APPLICATION_DECIDED,),
    "assignment": (
        t.PUBLIC_APPLICATION_PLACED,
        t.PUBLIC_APPLICATION_WAITLISTED,
        t.PUBLIC_APPLICATION_RELEASED,
        t.PUBLIC_PROVIDER_CHANGED,
    ),
    "notifications": (),
    "statistics": (),
}


class Resource(StrEnum):
    TOPIC = "topic"
    GROUP = "group"


class Pattern(StrEnum):
    LITERAL = "literal"
    PREFIXED = "prefixed"


class Operation(StrEnum):
    READ = "read"
    WRITE = "write"
    DESCRIBE = "describe"


@dataclass(frozen=True, slots=True, order=True)
class Grant:
    """One ALLOW ACL: `principal` may do `operation` on the resource (any host)."""

    principal: str
    resource: Resource
    name: str
    pattern: Pattern
    operation: Operation


@dataclass(frozen=True, slots=True)
class Access:
    """What one principal may do. Names are literal; a name in a `*_prefixes` set is a prefix."""

    principal: str
    reads: frozenset[str] = frozenset()
    writes: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    read_prefixes: frozenset[str] = frozenset()
    group_prefixes: frozenset[str] = frozenset()
    # Groups whose committed offsets it may look at (consumer lag), without joining them.
    watched_groups: frozenset[str] = frozenset()

    def grants(self) -> list[Grant]:
        """The ACLs that give exactly this access. READ and WRITE imply DESCRIBE in Kafka."""
        topic, group = Resource.TOPIC, Resource.GROUP
        literal, prefixed = Pattern.LITERAL, Pattern.PREFIXED
        wanted = [
            *((topic, name, literal, Operation.READ) for name in self.reads),
            *((topic, name, prefixed, Operation.READ) for name in self.read_prefixes),
            *((topic, name, literal, Operation.WRITE) for name in self.writes),
            *((group, name, literal, Operation.READ) for name in self.groups),
            *((group, name, prefixed, Operation.READ) for name in self.group_prefixes),
            *((group, name, literal, Operation.DESCRIBE) for name in self.watched_groups),
        ]
        return sorted(Grant(self.principal, *entry) for entry in wanted)


def service_access(service: str) -> Access:
    """A service reads what it consumes and writes the registry topics it owns and the partner
    streams it feeds."""
    owned = {topic.name for topic in t.REGISTRY if topic.owner == service}
    return Access(
        principal=service,
        reads=frozenset(topic.name for topic in SERVICE_READS[service]),
        writes=frozenset(owned | {topic.name for topic in PUBLIC_WRITES[service]}),
        groups=frozenset({service}),
    )


def partner_principal(name: str) -> str:
    """The Kafka principal of the partner organisation `name` (socialsvc_common.partners)."""
    return PARTNER_PREFIX + name


def partner_access(principal: str) -> Access:
    """A partner organisation reads the public streams only, in consumer groups of its own."""
    return Access(
        principal=principal,
        read_prefixes=frozenset({PUBLIC_PREFIX}),
        group_prefixes=frozenset({principal + "-"}),
    )


def egov_access() -> Access:
    """The e-government gateway hands citizens' submissions in, and reads nothing back."""
    return Access(principal=EGOV, writes=frozenset({t.EGOV_APPLICATION_SUBMITTED.name}))


def operator_access() -> Access:
    """The ops tool: tails and traces everything, shows lag, replays dead letters."""
    replay_targets = {topic.name for reads in SERVICE_READS.values() for topic in reads}
    return Access(
        principal=OPERATOR,
        reads=frozenset({ALL}),
        writes=frozenset({*replay_targets, t.DEAD_LETTER_REPLAYED.name}),
        group_prefixes=frozenset({OPERATOR_GROUP_PREFIX}),
        watched_groups=frozenset({ALL}),
    )


def registry_principal(registry: Registry) -> str:
    return REGISTRY_PREFIX + registry.value


def registry_access(registry: Registry) -> Access:
    """A state registry reports the life events it records, on its own topic, and reads nothing."""
    return Access(
        principal=registry_principal(registry), writes=frozenset({t.LIFE_EVENTS[registry].name})
    )


def archive_access() -> Access:
    """The audit archive keeps every event of every topic, from its own group."""
    return Access(principal=ARCHIVE, reads=frozenset({ALL}), groups=frozenset({ARCHIVE}))


def access_map(partners: Iterable[str] = ()) -> dict[str, Access]:
    """Every principal of the platform and its access, by principal name, with the partner
    organisations of these names."""
    principals = [service_access(service) for service in SERVICE_READS]
    principals += [operator_access(), egov_access(), archive_access()]
    principals += [registry_access(registry) for registry in Registry]
    principals += [partner_access(partner_principal(name)) for name in partners]
    return {access.principal: access for access in principals}
