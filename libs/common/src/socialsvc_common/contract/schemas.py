"""The committed JSON Schema of every payload, and the check that keeps the contract compatible.

Within a major version only backward-compatible changes are allowed: a consumer built from the
current model must still read every payload that was valid under the committed schema. So the
schemas are pydantic's *validation* schemas (what a model accepts, e.g. a Decimal as number or
string), not the serialization ones (what our own producers happen to emit): consumers validate,
and the e-government topic is written by a producer outside the platform.

Regenerate with `python -m socialsvc_common.contract.schemas` (make schemas); `--check` only
reports the files that differ.
"""

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from socialsvc_common.contract.topics import REGISTRY, Topic

Schema = dict[str, Any]
SCHEMA_DIR = Path(__file__).with_name("schemas")


class IncompatibleSchemas(Exception):
    """Current models break committed schemas: the change needs a new major version of the topic."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def model_schema(model: type[BaseModel]) -> Schema:
    """The validation JSON Schema of a payload model, keys sorted at every level."""
    return _sorted(model.model_json_schema(mode="validation"))  # type: ignore[no-any-return]


def schema_of(topic: Topic) -> Schema:
    """The JSON Schema of the payload carried on a topic."""
    return model_schema(topic.payload)


def render(schema: Schema) -> str:
    """The committed form: pretty-printed, sorted keys, UTF-8 text, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expected_files() -> dict[str, str]:
    """File name -> content of every schema file the registry calls for."""
    return {f"{topic.name}.json": render(schema_of(topic)) for topic in REGISTRY}


def stale_files(directory: Path = SCHEMA_DIR) -> list[str]:
    """Schema files that are missing, differ from the models, or belong to no topic."""
    expected = expected_files()
    present = {path.name for path in directory.glob("*.json")}
    differing = [
        name
        for name, text in expected.items()
        if name not in present or (directory / name).read_text(encoding="utf-8") != text
    ]
    return sorted([*differing, *(present - expected.keys())])


def committed_schema(topic: Topic, directory: Path = SCHEMA_DIR) -> Schema | None:
    """The schema file committed for a topic, or None when there is none yet."""
    path = directory / f"{topic.name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def breaking_changes(directory: Path = SCHEMA_DIR) -> list[str]:
    """Every incompatibility of the current models with the committed schemas, by topic."""
    return [
        f"{topic.name}: {problem}"
        for topic in REGISTRY
        if (committed := committed_schema(topic, directory)) is not None
        for problem in incompatibilities(committed, schema_of(topic))
    ]


def write_schemas(directory: Path = SCHEMA_DIR, *, allow_breaking: bool = False) -> list[str]:
    """Write every topic's schema, remove files of topics no longer registered; say what changed.

    Refuses (IncompatibleSchemas, nothing written) to overwrite a committed schema with an
    incompatible one, so regenerating cannot silence the compatibility test by accident.
    """
    directory.mkdir(parents=True, exist_ok=True)
    problems = [] if allow_breaking else breaking_changes(directory)
    if problems:
        raise IncompatibleSchemas(problems)
    expected = expected_files()
    changes = []
    for name in stale_files(directory):
        path = directory / name
        if name not in expected:
            path.unlink()
            changes.append(f"removed {name}")
        else:
            changes.append(f"{'updated' if path.exists() else 'created'} {name}")
            path.write_text(expected[name], encoding="utf-8")
    return changes


def main(argv: list[str] | None = None) -> int:
    """Console entry: write the schema files, or with --check only list the stale ones."""
    parser = argparse.ArgumentParser(prog="python -m socialsvc_common.contract.schemas")
    parser.add_argument("--check", action="store_true", help="exit 1 if files differ from models")
    parser.add_argument(
        "--allow-breaking", action="store_true", help="overwrite incompatible schemas anyway"
    )
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for name in stale:
            print(f"differs from the models: {SCHEMA_DIR / name}", file=sys.stderr)
        print("run `make schemas`" if stale else "schema files are current")
        return 1 if stale else 0
    try:
        changes = write_schemas(allow_breaking=args.allow_breaking)
    except IncompatibleSchemas as error:
        print("not written: incompatible with the committed schemas", file=sys.stderr)
        print("\n".join(f"  {problem}" for problem in error.problems), file=sys.stderr)
        print("publish a new major version of the topic, or pass --allow-breaking", file=sys.stderr)
        return 1
    print("\n".join(changes) if changes else "schema files are current")
    return 0


# --- compatibility ---------------------------------------------------------------------------


def incompatibilities(old: Schema, new: Schema) -> list[str]:
    """Why payloads valid under `old` (the committed schema) may be refused or misread by `new`.

    Reported: a property removed, a property's accepted types narrowed (type, anyOf/oneOf,
    $ref, enum values removed, format changed, array items, unknown fields refused), a property
    that became required or a new required property; recursively through objects and $defs.
    Compatible: new optional properties, new enum values, required becoming optional, widening.
    """
    comparison = _Comparison(old, new)
    comparison.node(old, new, "")
    return comparison.problems


def _kind(node: Schema) -> str:
    return str(node.get("type") or ("object" if "properties" in node else "any"))


def _covers(new_kind: str, old_kind: str) -> bool:
    return new_kind == old_kind or (old_kind, new_kind) == ("integer", "number")


def _values(node: Schema) -> list[Any] | None:
    return [node["const"]] if "const" in node else node.get("enum")


def _describe(alternatives: list[Schema]) -> str:
    kinds = (f"{_kind(n)} ({n['format']})" if "format" in n else _kind(n) for n in alternatives)
    return " | ".join(kinds)


def _lookup(root: Schema, ref: str) -> Schema:
    node: Any = root
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node  # type: ignore[no-any-return]


@dataclass
class _Comparison:
    old_root: Schema
    new_root: Schema
    problems: list[str] = field(default_factory=list)
    # Pairs of resolved nodes already compared: stops recursive models, reports a $def once.
    # The values keep the nodes alive, so an id cannot be reused by a later temporary node.
    seen: dict[tuple[int, int], tuple[Schema, Schema]] = field(default_factory=dict)

    def report(self, path: str, problem: str) -> None:
        self.problems.append(f"{path or '(root)'}: {problem}")

    def alternatives(self, node: Schema, root: Schema) -> list[Schema]:
        """The schemas a value may match: $ref followed, anyOf/oneOf and type lists flattened."""
        while "$ref" in node or len(node.get("allOf", ())) == 1:
            node = _lookup(root, node["$ref"]) if "$ref" in node else node["allOf"][0]
        for key in ("anyOf", "oneOf"):
            if key in node:
                return [alt for sub in node[key] for alt in self.alternatives(sub, root)]
        if isinstance(node.get("type"), list):
            return [{**node, "type": kind} for kind in node["type"]]
        return [node]

    def node(self, old: Schema, new: Schema, path: str) -> None:
        olds = self.alternatives(old, self.old_root)
        news = self.alternatives(new, self.new_root)
        if any(_kind(n) == "any" and _values(n) is None for n in news):
            return  # the new schema accepts anything here
        unmatched = False
        for o in olds:
            candidates = [n for n in news if _covers(_kind(n), _kind(o))]
            if not candidates:
                unmatched = True
                continue
            titled = [n for n in candidates if n.get("title") == o.get("title")]
            self.details(o, (titled or candidates)[0], path)
        if unmatched:
            self.report(path, f"type changed from {_describe(olds)} to {_describe(news)}")

    def details(self, old: Schema, new: Schema, path: str) -> None:
        if (id(old), id(new)) in self.seen:
            return
        self.seen[id(old), id(new)] = (old, new)
        old_values, new_values = _values(old), _values(new)
        if new_values is not None and old_values is None:
            self.report(path, f"now restricted to the values {new_values}")
        elif new_values is not None and old_values is not None:
            removed = [value for value in old_values if value not in new_values]
            if removed:
                self.report(path, f"enum values removed: {removed}")
        if "format" in new and new["format"] != old.get("format"):
            self.report(path, f"format changed from {old.get('format')} to {new['format']}")
        if "items" in old or "items" in new:
            self.node(old.get("items", {}), new.get("items", {}), f"{path}[]")
        old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
        if new_extra is False and old_extra is not False:
            self.report(path, "unknown properties are now refused")
        elif isinstance(old_extra, dict) and isinstance(new_extra, dict):
            self.node(old_extra, new_extra, f"{path}{{}}")
        if _kind(old) == "object":
            self.properties(old, new, path)

    def properties(self, old: Schema, new: Schema, path: str) -> None:
        old_properties, new_properties = old.get("properties", {}), new.get("properties", {})
        for name, schema in old_properties.items():
            where = f"{path}.{name}" if path else name
            if name not in new_properties:
                self.report(where, "property removed")
            else:
                self.node(schema, new_properties[name], where)
        old_required = set(old.get("required", ()))
        for name in new.get("required", ()):
            if name not in old_required:
                where = f"{path}.{name}" if path else name
                problem = "became required" if name in old_properties else "new required property"
                self.report(where, problem)


if __name__ == "__main__":
    raise SystemExit(main())
