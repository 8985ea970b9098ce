"""The Kubernetes resources of deploy/k8s: as the code gives them (topics from the registry,
users and ACLs from the access map, one scaler per consumer group), every setting a real one of
its process, and valid by the schemas of Kubernetes, Strimzi and KEDA, checked offline by the
kubernetes-models validators (deploy/k8s/validate, installed from the npm registry on first use)."""

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from assignment.app import AssignmentSettings
from deploy.k8s.generate import PROCESSES, documents
from eligibility.app import EligibilitySettings
from intake.app import IntakeSettings
from ministry_statistics.app import StatisticsSettings
from notifications.app import NotificationsSettings
from socialsvc_common.contract.access import SERVICE_READS, access_map
from socialsvc_common.contract.topics import REGISTRY
from tests.harness import ROOT
from workspace.settings import WorkspaceSettings

pytestmark = pytest.mark.integration

K8S = ROOT / "deploy" / "k8s"
VALIDATOR = K8S / "validate"
SETTINGS: dict[str, type[BaseSettings]] = {
    "intake": IntakeSettings,
    "eligibility": EligibilitySettings,
    "assignment": AssignmentSettings,
    "notifications": NotificationsSettings,
    "statistics": StatisticsSettings,
    "workspace": WorkspaceSettings,
}


def committed() -> list[dict[str, Any]]:
    found = []
    for name in documents():
        found += [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]
    return found


def validate(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not (VALIDATOR / "node_modules").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=VALIDATOR,
            check=True,
            timeout=600,
        )
    checked = subprocess.run(
        ["node", "validate.mjs"],
        input="\n".join(json.dumps(resource) for resource in resources),
        capture_output=True,
        text=True,
        cwd=VALIDATOR,
        check=True,
        timeout=300,
    )
    return [json.loads(line) for line in checked.stdout.splitlines()]


def test_the_committed_files_are_what_the_code_gives() -> None:
    generated = subprocess.run(
        [sys.executable, "-m", "deploy.k8s.generate", "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr


def test_every_resource_is_valid_by_its_schema_and_a_broken_one_is_not() -> None:
    resources = committed()
    results = validate(resources)
    assert len(results) == len(resources)
    assert [r for r in results if r["errors"]] == []
    kinds = {r["kind"] for r in results}
    assert kinds == {
        "KafkaTopic",
        "KafkaUser",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "ScaledObject",
        "TriggerAuthentication",
    }
    broken = []
    for resource in resources:
        wrong = copy.deepcopy(resource)
        match wrong["kind"]:
            case "KafkaTopic":
                wrong["spec"]["partitions"] = "six"
            case "Deployment":
                wrong["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = (
                    "http"
                )
            case "ScaledObject":
                wrong["spec"]["triggers"][0]["metadata"]["lagThreshold"] = 500
            case "KafkaUser":
                wrong["spec"]["authentication"]["type"] = "password"
            case _:
                continue
        broken.append(wrong)
    assert all(r["errors"] for r in validate(broken))


def test_topics_users_and_scalers_follow_the_registry_and_the_access_map() -> None:
    resources = committed()
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for resource in resources:
        by_kind.setdefault(resource["kind"], []).append(resource)
    topics = {r["spec"]["topicName"]: r["spec"] for r in by_kind["KafkaTopic"]}
    assert set(topics) == {topic.name for topic in REGISTRY}
    for topic in REGISTRY:
        assert topics[topic.name]["partitions"] == topic.partitions
        assert topics[topic.name]["config"]["retention.ms"] == str(topic.retention_ms)
        assert topics[topic.name]["config"]["min.insync.replicas"] == "2"
    users = {r["metadata"]["name"]: r["spec"] for r in by_kind["KafkaUser"]}
    for principal, access in access_map().items():
        acls = users.pop(principal)["authorization"]["acls"]
        given = {
            (
                acl["resource"]["type"],
                acl["resource"]["name"],
                acl["resource"]["patternType"],
                op.lower(),
            )
            for acl in acls
            for op in acl["operations"]
        }
        wanted = {
            (
                g.resource.value,
                g.name,
                "prefix" if g.pattern.value == "prefixed" else "literal",
                g.operation.value,
            )
            for g in access.grants()
        }
        assert given == wanted, principal
    assert users == {}
    scalers = {r["metadata"]["name"]: r["spec"] for r in by_kind["ScaledObject"]}
    assert set(scalers) == set(SERVICE_READS)
    for name, spec in scalers.items():
        assert spec["triggers"][0]["metadata"]["consumerGroup"] == name
        assert spec["maxReplicaCount"] <= max(topic.partitions for topic in SERVICE_READS[name])


def test_every_setting_of_a_deployment_is_one_its_process_reads() -> None:
    deployments = {r["metadata"]["name"]: r for r in committed() if r["kind"] == "Deployment"}
    assert set(deployments) == {process.name for process in PROCESSES} == set(SETTINGS)
    for name, deployment in deployments.items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        prefix = name.upper() + "_"
        fields = set(SETTINGS[name].model_fields)
        for variable in container["env"]:
            assert variable["name"].startswith(prefix), (name, variable["name"])
            assert variable["name"].removeprefix(prefix).lower() in fields, (name, variable["name"])
        assert container["ports"][0]["containerPort"] == int(
            next(v["value"] for v in container["env"] if v["name"] == prefix + "HTTP_PORT")
        )


def test_the_generator_fails_its_check_on_a_file_edited_by_hand(tmp_path: Path) -> None:
    for name in documents():
        (tmp_path / name).write_text((K8S / name).read_text())
    edited = tmp_path / "kafka.yaml"
    edited.write_text(edited.read_text().replace("partitions: 6", "partitions: 12", 1))
    checked = subprocess.run(
        [sys.executable, "-m", "deploy.k8s.generate", "--check", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert checked.returncode != 0
    assert "kafka.yaml" in checked.stderr
