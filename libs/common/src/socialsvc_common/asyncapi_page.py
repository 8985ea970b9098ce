"""A Markdown page of an AsyncAPI document, readable offline (no scripts, no CDN), in any viewer."""

from typing import Any

Document = dict[str, Any]
DAY_MS = 24 * 60 * 60 * 1000


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _anchor(heading: str) -> str:
    """The anchor Markdown viewers (GitHub, GitLab) give a heading."""
    kept = (c for c in heading.lower() if c.isalnum() or c in "-_ ")
    return "".join(kept).replace(" ", "-")


def _type(schema: dict[str, Any]) -> str:
    """A short type of a JSON Schema node, linking named schemas to their section."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return f"[{name}](#{_anchor(name)})"
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if alternatives:
        return " or ".join(_type(option) for option in alternatives)
    values = schema.get("enum") or ([schema["const"]] if "const" in schema else None)
    if values:
        return "one of " + ", ".join(f"`{value}`" for value in values)
    return _plain_type(schema)


def _plain_type(schema: dict[str, Any]) -> str:
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {_type(schema.get('items', {}))}"
    extra = schema.get("additionalProperties")
    if kind == "object" and isinstance(extra, dict):
        return f"map of {_type(extra)}"
    return f"{kind} ({schema['format']})" if "format" in schema else str(kind)


def _fields(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", ()))
    rows = ["| field | type | required | description |", "| --- | --- | --- | --- |"]
    for name, node in schema.get("properties", {}).items():
        about = node.get("description", "")
        if "default" in node and name not in required:
            about = f"{about} (default `{node['default']}`)".strip()
        rows.append(
            f"| `{name}` | {_cell(_type(node))} | {'yes' if name in required else ''} "
            f"| {_cell(about)} |"
        )
    return rows


def _message(message: dict[str, Any], channel: dict[str, Any]) -> list[str]:
    kafka = channel["bindings"]["kafka"]
    retention_days = kafka["topicConfiguration"]["retention.ms"] / DAY_MS
    payload = message["payload"]
    return [
        f"### `{message['title']}`",
        "",
        message["summary"],
        "",
        f"Partitions: {kafka['partitions']}; retention: {retention_days:g} days "
        f"({kafka['topicConfiguration']['cleanup.policy'][0]}); "
        f"key: {message['bindings']['kafka']['key']['description']}; "
        f"payload: {_type(payload) if '$ref' in payload else payload['description']}.",
        "",
        "Headers:",
        "",
        *_fields(message["headers"]),
        "",
    ]


def render_page(spec: Document) -> str:
    """The Markdown page of one service's AsyncAPI document."""
    title = spec["info"]["title"]
    server = spec["servers"]["kafka"]
    operations = spec["operations"].values()
    lines = [
        f"# {title}: events (AsyncAPI {spec['asyncapi']})",
        "",
        "Generated from the code by `make asyncapi`; do not edit. The machine-readable document "
        f"is [{title}.json]({title}.json).",
        "",
        spec["info"]["description"],
        "",
        f"Kafka: `{server['host']}` ({server['description']}). Values are JSON; the envelope "
        "travels as CloudEvents headers.",
        "",
    ]
    for action, heading in (("receive", "Reads"), ("send", "Writes")):
        lines += [f"## {heading}", "", "| topic | payload | what |", "| --- | --- | --- |"]
        for operation in operations:
            if operation["action"] != action:
                continue
            key = operation["channel"]["$ref"].rsplit("/", 1)[1]
            message = spec["components"]["messages"][key]
            link = f"[`{message['title']}`](#{_anchor(message['title'])})"
            lines.append(f"| {link} | {message['name']} | {_cell(message['summary'])} |")
        lines.append("")
    lines += ["## Topics", ""]
    for key, message in spec["components"]["messages"].items():
        lines += _message(message, spec["channels"][key])
    lines += ["## Schemas", ""]
    for name, schema in spec["components"]["schemas"].items():
        lines += [f"### {name}", ""]
        if schema.get("description"):
            lines += [schema["description"], ""]
        lines += [*(_fields(schema) if "properties" in schema else [_type(schema)]), ""]
    return "\n".join(lines).rstrip() + "\n"
