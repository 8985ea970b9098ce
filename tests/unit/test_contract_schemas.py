"""The committed payload schemas: complete, current, and never broken within a major version."""

import dataclasses
import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field, create_model

from socialsvc_common.contract import schemas
from socialsvc_common.contract.payloads import (
    Applicant,
    ApplicationReceived,
    Payload,
    ServiceRequested,
)
from socialsvc_common.contract.schemas import (
    SCHEMA_DIR,
    IncompatibleSchemas,
    Schema,
    committed_schema,
    incompatibilities,
    schema_of,
    stale_files,
    write_schemas,
)
from socialsvc_common.contract.topics import APPLICATION_RECEIVED, REGISTRY, Topic

REGENERATE = "run `make schemas` (python -m socialsvc_common.contract.schemas) and commit"


# --- the committed files ---------------------------------------------------------------------


def test_every_topic_has_a_committed_schema_and_there_are_no_strays() -> None:
    committed = {path.name for path in SCHEMA_DIR.glob("*.json")}
    expected = {f"{topic.name}.json" for topic in REGISTRY}
    assert expected - committed == set(), f"missing schema files: {REGENERATE}"
    assert committed - expected == set(), f"files of no registered topic: {REGENERATE}"


@pytest.mark.parametrize("topic", REGISTRY, ids=lambda topic: topic.name)
def test_current_model_is_backward_compatible_with_the_committed_schema(topic: Topic) -> None:
    committed = committed_schema(topic)
    assert committed is not None, f"no schema committed for {topic.name}: {REGENERATE}"
    problems = incompatibilities(committed, schema_of(topic))
    assert problems == [], (
        f"{topic.name} changed incompatibly within major version {topic.major_version}; "
        "add optional fields only, or publish a new topic version (.v"
        f"{topic.major_version + 1}) instead of regenerating the schema:\n" + "\n".join(problems)
    )


def test_committed_schemas_are_current() -> None:
    assert stale_files() == [], f"schema files differ from the payload models: {REGENERATE}"


def test_command_check_passes_on_the_committed_files() -> None:
    assert schemas.main(["--check"]) == 0


# --- writing ---------------------------------------------------------------------------------


def test_write_schemas_creates_updates_and_removes_strays(tmp_path: Path) -> None:
    assert len(write_schemas(tmp_path)) == len(REGISTRY)
    assert write_schemas(tmp_path) == []
    assert stale_files(tmp_path) == []
    (tmp_path / "gone.topic.removed.v1.json").write_text("{}\n", encoding="utf-8")
    older_wording = {**schema_of(APPLICATION_RECEIVED), "description": "older wording"}
    (tmp_path / f"{APPLICATION_RECEIVED.name}.json").write_text(
        json.dumps(older_wording), encoding="utf-8"
    )
    assert stale_files(tmp_path) == [
        "gone.topic.removed.v1.json",
        f"{APPLICATION_RECEIVED.name}.json",
    ]
    assert sorted(write_schemas(tmp_path)) == [
        "removed gone.topic.removed.v1.json",
        f"updated {APPLICATION_RECEIVED.name}.json",
    ]
    text = (tmp_path / f"{APPLICATION_RECEIVED.name}.json").read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert json.loads(text) == schema_of(APPLICATION_RECEIVED)


def test_write_schemas_refuses_to_overwrite_with_a_breaking_change(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    path = tmp_path / f"{APPLICATION_RECEIVED.name}.json"
    committed = json.loads(path.read_text(encoding="utf-8"))
    committed["properties"]["legacy"] = {"type": "string"}
    path.write_text(json.dumps(committed), encoding="utf-8")
    with pytest.raises(IncompatibleSchemas, match="legacy: property removed"):
        write_schemas(tmp_path)
    assert "legacy" in json.loads(path.read_text(encoding="utf-8"))["properties"]
    assert write_schemas(tmp_path, allow_breaking=True) == [f"updated {path.name}"]


# --- incompatibilities on hand-written schemas -----------------------------------------------


def obj(required: tuple[str, ...] = (), **properties: Schema) -> Schema:
    return {"type": "object", "properties": properties, "required": list(required)}


STRING: Schema = {"type": "string"}
NULLABLE_STRING: Schema = {"anyOf": [{"type": "string"}, {"type": "null"}]}


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (obj(a=STRING), obj(), ["a: property removed"]),
        (obj(a=STRING), obj(a={"type": "integer"}), ["a: type changed from string to integer"]),
        (obj(a=NULLABLE_STRING), obj(a=STRING), ["a: type changed from string | null to string"]),
        (obj(a={"type": ["string", "null"]}), obj(a=STRING), ["a: type changed"]),
        (obj(a={"type": "number"}), obj(a={"type": "integer"}), ["a: type changed"]),
        (obj(a={}), obj(a=STRING), ["a: type changed from any to string"]),
        (obj(a=STRING), obj(("a",), a=STRING), ["a: became required"]),
        (obj(), obj(("b",), b=STRING), ["b: new required property"]),
        (
            obj(a={"type": "string", "format": "date-time"}),
            obj(a={"type": "string", "format": "date"}),
            ["a: format changed from date-time to date"],
        ),
        (obj(a=STRING), obj(a={"type": "string", "format": "uuid"}), ["a: format changed"]),
        (
            obj(a={"type": "string", "enum": ["x", "y", "z"]}),
            obj(a={"type": "string", "enum": ["x"]}),
            ["a: enum values removed: ['y', 'z']"],
        ),
        (obj(a=STRING), obj(a={"type": "string", "enum": ["x"]}), ["a: now restricted"]),
        (obj(a={"const": "x"}), obj(a={"const": "y"}), ["a: enum values removed: ['x']"]),
        (
            obj(a={"type": "array", "items": STRING}),
            obj(a={"type": "array", "items": {"type": "integer"}}),
            ["a[]: type changed from string to integer"],
        ),
        (obj(a=obj(b=STRING)), obj(a=obj(c=STRING)), ["a.b: property removed"]),
        (
            obj(a={"type": "object", "additionalProperties": STRING}),
            obj(a={"type": "object", "additionalProperties": {"type": "boolean"}}),
            ["a{}: type changed from string to boolean"],
        ),
        (obj(a=STRING), {**obj(a=STRING), "additionalProperties": False}, ["(root): unknown"]),
    ],
)
def test_incompatible_changes_are_named(old: Schema, new: Schema, expected: list[str]) -> None:
    problems = incompatibilities(old, new)
    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, expected, strict=True):
        assert problem.startswith(start), problems


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (obj(a=STRING), obj(a=STRING, b=STRING)),  # new optional property
        (obj(("a",), a=STRING), obj(a=STRING)),  # required became optional
        (obj(("a",), a=STRING), obj(a=NULLABLE_STRING)),  # ... and nullable
        (obj(a={"type": "integer"}), obj(a={"type": "number"})),  # widened
        (obj(a={"type": "integer"}), obj(a={})),  # anything is accepted now
        (obj(a={"type": "string", "format": "uuid"}), obj(a=STRING)),  # format dropped
        (obj(a={"enum": ["x"], "type": "string"}), obj(a={"enum": ["x", "y"], "type": "string"})),
        (obj(a={"enum": ["x"], "type": "string"}), obj(a=STRING)),  # restriction dropped
        (obj(("a",), a=STRING), {**obj(("a",), a=STRING), "title": "Renamed"}),
    ],
)
def test_compatible_changes_pass(old: Schema, new: Schema) -> None:
    assert incompatibilities(old, new) == []


def test_refs_are_followed_into_each_schemas_own_defs() -> None:
    old = {"$defs": {"Inner": obj(b=STRING)}, **obj(a={"$ref": "#/$defs/Inner"})}
    same = {"$defs": {"Moved": obj(b=STRING)}, **obj(a={"allOf": [{"$ref": "#/$defs/Moved"}]})}
    changed = {"$defs": {"Inner": obj(b={"type": "integer"})}, **obj(a={"$ref": "#/$defs/Inner"})}
    assert incompatibilities(old, same) == []
    assert incompatibilities(old, changed) == ["a.b: type changed from string to integer"]


def test_recursive_models_terminate() -> None:
    tree = {
        "$defs": {"Node": obj(child={"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]})},
        "$ref": "#/$defs/Node",
    }
    assert incompatibilities(tree, tree) == []


# --- incompatibilities on variants of a real payload ------------------------------------------


def variant(model: type[BaseModel], *, drop: str = "", **fields: Any) -> type[BaseModel]:
    """A copy of a payload model under the same name, with one field dropped and others set."""
    definitions: dict[str, Any] = {
        name: (info.annotation, info) for name, info in model.model_fields.items() if name != drop
    }
    return create_model(model.__name__, __base__=Payload, **{**definitions, **fields})


def problems_of(payload: type[BaseModel]) -> list[str]:
    current = schema_of(dataclasses.replace(APPLICATION_RECEIVED, payload=payload))
    return incompatibilities(schema_of(APPLICATION_RECEIVED), current)


class FewerServices(StrEnum):
    HOME_CARE = "home_care"
    RESIDENTIAL = "residential"
    NGO_PROJECT = "ngo_project"


class MoreServices(StrEnum):
    HOME_CARE = "home_care"
    RESIDENTIAL = "residential"
    NGO_PROJECT = "ngo_project"
    ANY = "any"
    DAY_CARE = "day_care"


def test_the_variant_helper_reproduces_the_real_model() -> None:
    copy = dataclasses.replace(APPLICATION_RECEIVED, payload=variant(ApplicationReceived))
    assert schema_of(copy) == schema_of(APPLICATION_RECEIVED)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (variant(ApplicationReceived, drop="channel"), "channel: property removed"),
        (variant(ApplicationReceived, channel=(int, ...)), "channel: type changed"),
        (
            variant(ApplicationReceived, submitted_at=(date, ...)),
            "submitted_at: format changed from date-time to date",
        ),
        (variant(ApplicationReceived, priority=(int, ...)), "priority: new required property"),
        (
            variant(ApplicationReceived, service_requested=(FewerServices, ...)),
            "service_requested: enum values removed: ['any']",
        ),
        (
            variant(ApplicationReceived, applicant=(variant(Applicant, drop="fin"), ...)),
            "applicant.fin: property removed",
        ),
        (
            variant(ApplicationReceived, applicant=(variant(Applicant, language=(str, ...)), ...)),
            "applicant.language: became required",
        ),
    ],
)
def test_breaking_a_real_payload_is_reported_with_the_field(
    payload: type[BaseModel], expected: str
) -> None:
    problems = problems_of(payload)
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems


@pytest.mark.parametrize(
    "payload",
    [
        variant(ApplicationReceived, note=(str | None, None)),
        variant(ApplicationReceived, channel=(str | None, Field(default=None))),
        variant(ApplicationReceived, service_requested=(MoreServices, ...)),
        variant(ApplicationReceived, service_requested=(ServiceRequested, ServiceRequested.ANY)),
    ],
    ids=["new optional field", "required made optional", "enum value added", "default added"],
)
def test_compatible_changes_to_a_real_payload_pass(payload: type[BaseModel]) -> None:
    assert problems_of(payload) == []
