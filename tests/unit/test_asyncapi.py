"""The AsyncAPI documents: generated from the code, committed, and saying what each service does."""

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from socialsvc_common.asyncapi import expected_files, service_document, stale_files
from socialsvc_common.contract import topics

DOCS = Path(__file__).parents[2] / "docs" / "asyncapi"


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return expected_files()


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    return {service: service_document(service) for service in topics.CONSUMERS}


def test_the_committed_documents_are_what_the_code_generates(generated: dict[str, str]) -> None:
    assert stale_files(DOCS, generated) == [], "run `make asyncapi` and commit docs/asyncapi"


def test_a_changed_or_stray_document_is_reported(generated: dict[str, str], tmp_path: Path) -> None:
    for name, text in generated.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "intake.md").write_text("# edited by hand\n", encoding="utf-8")
    (tmp_path / "billing.json").write_text("{}\n", encoding="utf-8")
    assert stale_files(tmp_path, generated) == ["billing.json", "intake.md"]


def addresses(document: dict[str, Any], action: str) -> set[str]:
    return {
        document["channels"][op["channel"]["$ref"].rsplit("/", 1)[1]]["address"]
        for op in document["operations"].values()
        if op["action"] == action
    }


def test_each_service_reads_what_its_handlers_take_and_writes_what_it_declares(
    documents: dict[str, dict[str, Any]],
) -> None:
    assert addresses(documents["eligibility"], "receive") == {
        *(topic.name for topic in topics.LIFE_EVENTS.values()),
        topics.APPLICATION_RECEIVED.name,
        topics.SUBJECT_ERASED.name,
        topics.CONSENT_WITHDRAWN.name,
        topics.PLACEMENT_REFUSED.name,
        topics.PLACEMENT_RELEASED.name,
        topics.REVIEW_DUE.name,
    }
    assert addresses(documents["eligibility"], "send") == {
        topics.DECISION_MADE.name,
        topics.PRESCREEN_MADE.name,
        topics.APPEAL_LODGED.name,
        topics.APPEAL_DECIDED.name,
        topics.PUBLIC_APPLICATION_DECIDED.name,
        topics.DEAD_LETTERS["eligibility"].name,
    }
    assert topics.EGOV_APPLICATION_SUBMITTED.name in addresses(documents["intake"], "receive")
    assert topics.DECISION_MADE.name in addresses(documents["assignment"], "receive")
    assert topics.CONSENT_WITHDRAWN.name in addresses(documents["intake"], "send")
    for appeal in (topics.APPEAL_LODGED, topics.APPEAL_DECIDED):
        assert appeal.name in addresses(documents["notifications"], "receive")
    for service in ("eligibility", "assignment", "notifications"):
        assert topics.CONSENT_WITHDRAWN.name in addresses(documents[service], "receive")
    for topic in (topics.REVIEW_DUE, topics.REVIEW_CONCLUDED, topics.REVIEW_OVERDUE):
        assert topic.name in addresses(documents["assignment"], "send")
    for topic in (topics.REVIEW_DUE, topics.REVIEW_CONCLUDED):
        assert topic.name in addresses(documents["notifications"], "receive")
    writers = Counter(address for d in documents.values() for address in addresses(d, "send"))
    assert all(writers[t.name] == 1 for t in topics.PUBLIC_TOPICS), writers


def resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for item in node for r in refs(item)]
    return []


def test_every_reference_resolves_and_payloads_are_the_registry_models(
    documents: dict[str, dict[str, Any]],
) -> None:
    for document in documents.values():
        assert document["asyncapi"] == "3.0.0"
        for ref in refs(document):
            assert resolve(document, ref) is not None, ref
    message = documents["assignment"]["components"]["messages"]["public_application_placed_v1"]
    assert message["payload"] == {"$ref": "#/components/schemas/PublicApplicationPlaced"}
    schema = documents["assignment"]["components"]["schemas"]["PublicApplicationPlaced"]
    assert set(schema["properties"]) == set(topics.PUBLIC_APPLICATION_PLACED.payload.model_fields)
