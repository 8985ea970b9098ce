"""The AsyncAPI 3.0 document of a service, generated from its runtime and the topic registry.

What a service reads is what its handlers registered (`runtime.consumer.topics`); what it writes is
what it declared (`build_runtime(..., publishes=...)`, plus its dead-letter topic). Payloads are the
registry's models, as the same validation JSON Schemas that are committed beside the contract.

FastStream 0.7 can write AsyncAPI too, but it describes its own subscribers and publishers: ours
are one raw subscriber per service (one `KafkaMessage` parameter, so one untyped payload for every
topic) and an outbox relay that publishes through aiokafka, which FastStream never sees. The
document would name the right topics read and none written, so it is built here instead.

`python -m socialsvc_common.asyncapi` (make asyncapi) writes docs/asyncapi/<service>.json and a
Markdown page for each; `--check` only lists the files that differ from the code.
"""

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from socialsvc_common.asyncapi_page import render_page
from socialsvc_common.consumer import DLQ_PREFIX
from socialsvc_common.contract.payloads import DeadLetter
from socialsvc_common.contract.topics import CONSUMERS, Topic

if TYPE_CHECKING:
    from socialsvc_common.service import Runtime

Document = dict[str, Any]
ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING = "0.5.0"
DOCS_DIR = Path("docs/asyncapi")
REF = "#/components/schemas/{model}"
# A service's Python package where it is not named like the service (`statistics` would shadow
# the standard library's module).
PACKAGES = {"statistics": "ministry_statistics"}

_CE = {
    "ce_specversion": ("CloudEvents version, 1.0", None),
    "ce_id": ("event id, the deduplication key", "uuid"),
    "ce_type": ("event type: the topic name without its version", None),
    "ce_source": ("producer, /socialsvc/<service>", None),
    "ce_time": ("when the event happened (RFC 3339, UTC)", "date-time"),
    "ce_subject": ("the application id", "uuid"),
    "ce_correlationid": ("id of the first event of this chain", "uuid"),
    "ce_causationid": ("id of the event that caused this one (absent on a first event)", "uuid"),
    "ce_schemaversion": ("payload schema version, <major>.<minor>", None),
    "ce_actor": (
        "who gave the command that caused this event, <role>:<name> (absent on events a service "
        "made by itself)",
        None,
    ),
    "content-type": ("application/json", None),
}
REQUIRED_HEADERS = ["ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "ce_subject"]


def _string(description: str, fmt: str | None = None) -> dict[str, str]:
    return {"type": "string", "description": description} | ({"format": fmt} if fmt else {})


def _headers(topic: Topic) -> dict[str, Any]:
    """The Kafka headers of a topic's records, as a JSON Schema object."""
    ce = dict(_CE)
    if topic.owner == "public":
        ce["ce_subject"] = ("the pseudonymous application id (the record key)", "uuid")
        ce["ce_correlationid"] = ("equals ce_id: public events point at no private event", "uuid")
        del ce["ce_causationid"]
        del ce["ce_actor"]  # partners learn what happened, not which of our staff did it
    properties = {name: _string(*about) for name, about in ce.items()}
    required = list(REQUIRED_HEADERS)
    if topic.payload is DeadLetter:
        # The original record's headers are kept; these say why it failed.
        fields = DeadLetter.model_fields
        properties |= {
            DLQ_PREFIX + name: _string(field.description or name.replace("_", " "))
            for name, field in fields.items()
        }
        required = [DLQ_PREFIX + name for name, field in fields.items() if field.is_required()]
    return {"type": "object", "properties": properties, "required": required}


def _payload(topic: Topic, schemas: dict[str, Any]) -> dict[str, Any]:
    if topic.payload is DeadLetter:
        return {"description": "the original record's value, unchanged, so it can be replayed"}
    return _schema_ref(topic.payload, schemas)


def _schema_ref(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation", ref_template=REF)
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def _key(name: str) -> str:
    """A component or channel id: the topic name without dots (AsyncAPI ids are identifiers)."""
    return name.replace(".", "_")


def document(runtime: "Runtime", *, description: str) -> Document:
    """The AsyncAPI 3.0 document of one service, sorted so it only changes with the code."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    roles = [("receive", t) for t in runtime.consumer.topics] + [
        ("send", t) for t in runtime.publishes
    ]
    for action, topic in roles:
        key = _key(topic.name)
        messages[key] = {
            "name": topic.payload.__name__,
            "title": topic.name,
            "summary": topic.description,
            "contentType": "application/json",
            "headers": _headers(topic),
            "payload": _payload(topic, schemas),
            "bindings": {"kafka": {"key": _string(topic.key), "bindingVersion": KAFKA_BINDING}},
        }
        channels[key] = {
            "address": topic.name,
            "description": topic.description,
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
            "bindings": {
                "kafka": {
                    "topic": topic.name,
                    "partitions": topic.partitions,
                    "topicConfiguration": {
                        "cleanup.policy": [topic.cleanup_policy.value],
                        "retention.ms": topic.retention_ms,
                    },
                    "bindingVersion": KAFKA_BINDING,
                }
            },
        }
        operation: dict[str, Any] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{key}"},
            "messages": [{"$ref": f"#/channels/{key}/messages/{key}"}],
        }
        if action == "receive":
            group = {"type": "string", "enum": [runtime.name]}
            operation["bindings"] = {"kafka": {"groupId": group, "bindingVersion": KAFKA_BINDING}}
        operations[f"{action}_{key}"] = operation
    spec: Document = _sorted(
        {
            "asyncapi": ASYNCAPI_VERSION,
            "info": {"title": runtime.name, "version": "1.0.0", "description": description},
            "defaultContentType": "application/json",
            "servers": {
                "kafka": {
                    "host": "127.0.0.1:9092",
                    "protocol": "kafka",
                    "description": "the broker of `make run`; elsewhere the service's "
                    f"{runtime.name.upper()}_KAFKA_BOOTSTRAP_SERVERS",
                }
            },
            "channels": channels,
            "operations": operations,
            "components": {"messages": messages, "schemas": schemas},
        }
    )
    return spec


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def service_document(service: str) -> Document:
    """Builds the service (nothing is started or connected) and documents what it wired.

    The service is found by name, as `<service>.app.build_app`, so that this library does not
    depend on the services that depend on it."""
    app = importlib.import_module(f"{PACKAGES.get(service, service)}.app").build_app()
    return document(app.state.runtime, description=app.description)


def expected_files() -> dict[str, str]:
    """File name -> content of every generated document and page."""
    files = {}
    for service in CONSUMERS:
        spec = service_document(service)
        files[f"{service}.json"] = json.dumps(spec, indent=2, ensure_ascii=False) + "\n"
        files[f"{service}.md"] = render_page(spec)
    return files


def stale_files(directory: Path, expected: dict[str, str]) -> list[str]:
    """Files that are missing, differ from the code, or belong to no service."""
    present = {path.name for path in directory.glob("*") if path.suffix in {".json", ".md"}}
    differing = [
        name
        for name, text in expected.items()
        if name not in present or (directory / name).read_text(encoding="utf-8") != text
    ]
    return sorted([*differing, *(present - expected.keys())])


def main(argv: list[str] | None = None) -> int:
    """Console entry: write the documents, or with --check only list the stale ones."""
    parser = argparse.ArgumentParser(prog="python -m socialsvc_common.asyncapi")
    parser.add_argument("--check", action="store_true", help="exit 1 if files differ from code")
    parser.add_argument("--dir", type=Path, default=DOCS_DIR, help="where the documents live")
    args = parser.parse_args(argv)
    expected = expected_files()
    stale = stale_files(args.dir, expected)
    if args.check:
        for name in stale:
            print(f"differs from the code: {args.dir / name}", file=sys.stderr)
        print("run `make asyncapi`" if stale else "AsyncAPI documents are current")
        return 1 if stale else 0
    args.dir.mkdir(parents=True, exist_ok=True)
    for name in stale:
        path = args.dir / name
        if name in expected:
            path.write_text(expected[name], encoding="utf-8")
        else:
            path.unlink()
        print(f"{'wrote' if name in expected else 'removed'} {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
