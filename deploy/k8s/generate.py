"""`python -m deploy.k8s.generate` (`make k8s`): the platform's Kubernetes resources, written from
the code that defines the platform, so that they cannot drift from it.

- `kafka.yaml`: a Strimzi `KafkaTopic` for every topic of the registry (partitions, retention,
  cleanup and the cluster's replication) and a `KafkaUser` for every principal of the access map,
  with SCRAM-SHA-512 and exactly its ACLs;
- `services.yaml`: each process as a `Deployment` (its settings from the environment, secrets
  from `Secret`s, confined: non-root, read-only root, no capabilities), its `Service` and a
  `PodDisruptionBudget`;
- `scaling.yaml`: a KEDA `ScaledObject` per consumer, scaling on its consumer group's lag up to
  the partitions it reads, with the `TriggerAuthentication` of its Kafka user.

`--check` writes nothing and fails when a committed file differs from what the code gives (a test
runs it). The files are validated against the Kubernetes, Strimzi and KEDA schemas by
`tests/integration/test_k8s_manifests.py`.
"""

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from socialsvc_common.admin import replication_for
from socialsvc_common.contract import topics as t
from socialsvc_common.contract.access import (
    SERVICE_READS,
    Access,
    Grant,
    Pattern,
    access_map,
)

HERE = Path(__file__).resolve().parent
NAMESPACE = "socialsvc"
CLUSTER = "socialsvc"  # the Strimzi Kafka cluster's name
BROKERS = 3
# Strimzi's internal TLS listener with SCRAM logins; the certificate of the cluster's authority,
# which Strimzi keeps in a Secret, mounted where the services look for it.
BOOTSTRAP = f"{CLUSTER}-kafka-bootstrap.{NAMESPACE}.svc:9093"
CLUSTER_CA = f"{CLUSTER}-cluster-ca-cert"
CA_DIRECTORY = "/etc/socialsvc/kafka-ca"
IMAGE = "registry.gov.az/mlspp/socialsvc:0.1.0"
APP_LABEL = "app.kubernetes.io/name"
PART_OF = {"app.kubernetes.io/part-of": "socialsvc"}
LAG_THRESHOLD = "500"  # records behind per replica before KEDA adds one
STOP_GRACE_SECONDS = 40  # above the services' 20 s shutdown grace


@dataclass(frozen=True)
class Process:
    name: str
    module: str
    port: int
    consumes: bool = True  # a Kafka consumer with a database of its own
    pseudonyms: bool = False  # writes pseudonymous references: needs the shared key
    replicas: int = 1
    settings: tuple[tuple[str, str], ...] = ()  # more of its settings, by name without prefix
    secrets: tuple[tuple[str, str, str], ...] = ()  # (setting, Secret, key)

    @property
    def prefix(self) -> str:
        return self.name.upper() + "_"


# The providers' gateways are outside the cluster; their addresses are the ministry's to set.
GATEWAYS = (
    ("SMS_GATEWAY_URL", "https://sms-gateway.example.az/api"),
    ("INBOX_GATEWAY_URL", "https://egov-inbox.example.az/api"),
    ("SMTP_HOST", "smtp.example.az"),
    ("SMTP_PORT", "587"),
)
# The services the workspace calls; it reaches each at its Service's name and port.
SERVICES = (
    Process("intake", "intake", 8000, pseudonyms=True, replicas=2),
    Process("eligibility", "eligibility", 8001, pseudonyms=True),
    Process("assignment", "assignment", 8002, pseudonyms=True),
    Process(
        "notifications",
        "notifications",
        8003,
        settings=GATEWAYS,
        secrets=(("RECEIPT_SECRET", "notifications-gateways", "receipt-secret"),),
    ),
    Process("statistics", "ministry_statistics", 8006, pseudonyms=True),
)
WORKSPACE = Process(
    "workspace",
    "workspace",
    8005,
    consumes=False,
    replicas=2,
    settings=(
        *((f"{s.prefix}URL", f"http://{s.name}:{s.port}") for s in SERVICES),
        ("COOKIE_SECURE", "true"),
    ),
)
PROCESSES = (*SERVICES, WORKSPACE)


def kafka_topic(topic: t.Topic) -> dict[str, Any]:
    replicas, min_isr = replication_for(BROKERS)
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaTopic",
        "metadata": {
            "name": topic.name,
            "namespace": NAMESPACE,
            "labels": {"strimzi.io/cluster": CLUSTER, **PART_OF},
        },
        "spec": {
            "topicName": topic.name,
            "partitions": topic.partitions,
            "replicas": replicas,
            "config": {**topic.config(), "min.insync.replicas": str(min_isr)},
        },
    }


OPERATIONS = {"read": "Read", "write": "Write", "describe": "Describe"}


def acl(grant: Grant) -> dict[str, Any]:
    resource: dict[str, Any] = {"type": grant.resource.value, "name": grant.name}
    # Kafka's wildcard is a literal "*"; Strimzi spells a prefix "prefix".
    resource["patternType"] = "prefix" if grant.pattern is Pattern.PREFIXED else "literal"
    return {"type": "allow", "resource": resource, "operations": [OPERATIONS[grant.operation]]}


def kafka_user(access: Access) -> dict[str, Any]:
    return {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaUser",
        "metadata": {
            "name": access.principal,
            "namespace": NAMESPACE,
            "labels": {"strimzi.io/cluster": CLUSTER, **PART_OF},
        },
        "spec": {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": [acl(g) for g in access.grants()]},
        },
    }


def environment(process: Process) -> list[dict[str, Any]]:
    plain = {
        "ENVIRONMENT": "production",
        "HTTP_HOST": "0.0.0.0",  # noqa: S104 - inside its pod, behind the Service
        "HTTP_PORT": str(process.port),
        "LOG_JSON": "true",
        "API_KEYS_FILE": "/etc/socialsvc/keys/api-keys.jsonl",
    }
    secrets = list(process.secrets)
    if process.consumes:
        plain |= {
            "KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP,
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SSL_CAFILE": f"{CA_DIRECTORY}/ca.crt",
            "KAFKA_SASL_USERNAME": process.name,
        }
        # Strimzi's User Operator writes each KafkaUser's password into a Secret of its name.
        secrets += [
            ("KAFKA_SASL_PASSWORD", process.name, "password"),
            ("DATABASE_URL", f"{process.name}-database", "url"),
        ]
    if process.pseudonyms:
        secrets.append(("PSEUDONYM_KEY", "socialsvc-pseudonym", "key"))
    plain |= dict(process.settings)
    env: list[dict[str, Any]] = [
        {"name": process.prefix + name, "value": value} for name, value in plain.items()
    ]
    env += [
        {
            "name": process.prefix + name,
            "valueFrom": {"secretKeyRef": {"name": secret, "key": key}},
        }
        for name, secret, key in secrets
    ]
    return env


def deployment(process: Process) -> dict[str, Any]:
    labels = {APP_LABEL: process.name, **PART_OF}
    container: dict[str, Any] = {
        "name": process.name,
        "image": IMAGE,
        "command": ["python", "-m", process.module],
        "ports": [{"name": "http", "containerPort": process.port}],
        "env": environment(process),
        # Ready when its database and broker answer; alive while it answers at all.
        "readinessProbe": {"httpGet": {"path": "/health", "port": "http"}, "periodSeconds": 5},
        "livenessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 10},
        "resources": {
            "requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"memory": "512Mi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "keys", "mountPath": "/etc/socialsvc/keys", "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108 - the pod's own emptyDir
        ],
    }
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {APP_LABEL: process.name}},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "terminationGracePeriodSeconds": STOP_GRACE_SECONDS,
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 10001,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [container],
                "volumes": [
                    {"name": "keys", "secret": {"secretName": "socialsvc-api-keys"}},
                    {"name": "tmp", "emptyDir": {}},
                ],
            },
        },
    }
    if process.consumes:
        container["volumeMounts"].append(
            {"name": "kafka-ca", "mountPath": CA_DIRECTORY, "readOnly": True}
        )
        spec["template"]["spec"]["volumes"].append(
            {"name": "kafka-ca", "secret": {"secretName": CLUSTER_CA}}
        )
    else:
        spec["replicas"] = process.replicas  # the others' replicas are KEDA's to set
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": process.name, "namespace": NAMESPACE, "labels": labels},
        "spec": spec,
    }


def service(process: Process) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": process.name,
            "namespace": NAMESPACE,
            "labels": {APP_LABEL: process.name, **PART_OF},
        },
        "spec": {
            "selector": {APP_LABEL: process.name},
            "ports": [{"name": "http", "port": process.port, "targetPort": "http"}],
        },
    }


def disruption_budget(process: Process) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": process.name, "namespace": NAMESPACE},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {APP_LABEL: process.name}}},
    }


def trigger_authentication(process: Process) -> dict[str, Any]:
    """KEDA reads the group's lag as the service itself: its user name from its container's
    environment, its password from the Secret Strimzi wrote for its KafkaUser."""
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "TriggerAuthentication",
        "metadata": {"name": f"{process.name}-kafka", "namespace": NAMESPACE},
        "spec": {
            "env": [
                {
                    "parameter": "username",
                    "name": process.prefix + "KAFKA_SASL_USERNAME",
                    "containerName": process.name,
                }
            ],
            "secretTargetRef": [
                {"parameter": "password", "name": process.name, "key": "password"},
                {"parameter": "ca", "name": CLUSTER_CA, "key": "ca.crt"},
            ],
        },
    }


def scaled_object(process: Process) -> dict[str, Any]:
    partitions = max(topic.partitions for topic in SERVICE_READS[process.name])
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": process.name, "namespace": NAMESPACE},
        "spec": {
            "scaleTargetRef": {"name": process.name},
            "minReplicaCount": process.replicas,
            # More consumers than partitions would wait idle.
            "maxReplicaCount": partitions,
            "cooldownPeriod": 300,
            "triggers": [
                {
                    "type": "kafka",
                    "metadata": {
                        "bootstrapServers": BOOTSTRAP,
                        "consumerGroup": process.name,
                        "lagThreshold": LAG_THRESHOLD,
                        "offsetResetPolicy": "earliest",
                        "sasl": "scram_sha512",
                        "tls": "enable",
                    },
                    "authenticationRef": {"name": f"{process.name}-kafka"},
                }
            ],
        },
    }


def documents() -> dict[str, list[dict[str, Any]]]:
    """Every file's resources, by file name."""
    consumers = [process for process in PROCESSES if process.consumes]
    principals = sorted(access_map().values(), key=lambda access: access.principal)
    return {
        "kafka.yaml": [*map(kafka_topic, t.REGISTRY), *map(kafka_user, principals)],
        "services.yaml": [
            resource
            for process in PROCESSES
            for resource in (deployment(process), service(process), disruption_budget(process))
        ],
        "scaling.yaml": [
            resource
            for process in consumers
            for resource in (trigger_authentication(process), scaled_object(process))
        ],
    }


HEADER = (
    "# Generated by `make k8s` (python -m deploy.k8s.generate) from the topic registry, the\n"
    "# access map and the services' settings; edit those, not this file.\n"
)


def render(resources: Iterable[dict[str, Any]]) -> str:
    body = yaml.safe_dump_all(resources, sort_keys=False, allow_unicode=True, width=100)
    return HEADER + body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether the files match")
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    stale = []
    for name, resources in documents().items():
        path = args.out / name
        text = render(resources)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        sys.exit(f"k8s: {', '.join(stale)} differ from the code; run `make k8s`")


if __name__ == "__main__":
    main()
