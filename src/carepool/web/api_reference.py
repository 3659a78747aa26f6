"""The API's reference page, rendered on the server from the app's own OpenAPI document.

Interactive API consoles load their scripts and styles from a CDN, which the pages' content
security policy forbids and which would tell a third party who reads the docs. A page built
from the same document the API publishes cannot drift from it, works without JavaScript and
reads like every other page of the service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Schema = Mapping[str, Any]

_CONSTRAINTS = (
    ("minimum", "at least {}"),
    ("maximum", "at most {}"),
    ("exclusiveMinimum", "more than {}"),
    ("exclusiveMaximum", "less than {}"),
    ("minLength", "at least {} characters"),
    ("maxLength", "at most {} characters"),
    ("pattern", "matching {}"),
    ("minItems", "at least {} items"),
    ("maxItems", "at most {} items"),
)


@dataclass(frozen=True, slots=True)
class Field:
    """A parameter or a schema property: what to send or expect, and its limits."""

    name: str
    where: str
    type: str
    required: bool
    rules: str
    description: str


@dataclass(frozen=True, slots=True)
class Operation:
    """One method on one path, with what it takes and what it answers."""

    anchor: str
    method: str
    path: str
    summary: str
    description: str
    parameters: tuple[Field, ...]
    body: str
    responses: tuple[tuple[str, str, str], ...]
    token_optional: bool


@dataclass(frozen=True, slots=True)
class SchemaDoc:
    """A named shape from ``components.schemas``, with its fields."""

    name: str
    description: str
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class ApiReference:
    """The whole reference: operations grouped by tag, then every schema they name."""

    title: str
    version: str
    summary: str
    groups: tuple[tuple[str, tuple[Operation, ...]], ...]
    schemas: tuple[SchemaDoc, ...]
    bearer: bool


def type_of(schema: Schema) -> str:
    """A reader's name for a JSON Schema type: ``integer``, ``list of Line``, ``string or null``."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    for combiner in ("anyOf", "oneOf", "allOf"):
        if combiner in schema:
            return " or ".join(dict.fromkeys(type_of(s) for s in schema[combiner]))
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {type_of(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema:
        extra = schema["additionalProperties"]
        return f"map of {type_of(extra)}" if isinstance(extra, Mapping) else "object"
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return str(kind)


def rules_of(schema: Schema) -> str:
    """The bounds a value must keep, from the schema and any schema it is one of."""
    found = [text.format(schema[key]) for key, text in _CONSTRAINTS if key in schema]
    for option in schema.get("anyOf", ()):
        found.extend(rules_of(option).split("; ") if rules_of(option) else ())
    if "default" in schema and schema["default"] is not None:
        found.append(f"default {schema['default']}")
    return "; ".join(found)


def _parameter(raw: Schema) -> Field:
    schema = raw.get("schema", {})
    return Field(
        name=str(raw["name"]),
        where=str(raw.get("in", "")),
        type=type_of(schema),
        required=bool(raw.get("required", False)),
        rules=rules_of(schema),
        description=str(raw.get("description") or schema.get("description") or ""),
    )


def _json_type(content: Schema | None) -> str:
    if not content:
        return ""
    for media, body in content.items():
        schema = body.get("schema")
        return f"{type_of(schema)} ({media})" if schema else str(media)
    return ""


def _operation(path: str, method: str, raw: Schema) -> Operation:
    body = raw.get("requestBody", {})
    responses = tuple(
        (str(code), str(answer.get("description", "")), _json_type(answer.get("content")))
        for code, answer in sorted(raw.get("responses", {}).items())
    )
    return Operation(
        anchor=str(raw.get("operationId") or f"{method}-{path}"),
        method=method.upper(),
        path=path,
        summary=str(raw.get("summary", "")),
        description=str(raw.get("description", "")),
        parameters=tuple(_parameter(p) for p in raw.get("parameters", ())),
        body=_json_type(body.get("content")),
        responses=responses,
        token_optional=any(not requirement for requirement in raw.get("security", ())),
    )


def _schema(name: str, raw: Schema) -> SchemaDoc:
    required = set(raw.get("required", ()))
    fields = tuple(
        Field(
            name=prop,
            where="",
            type=type_of(spec),
            required=prop in required,
            rules=rules_of(spec),
            description=str(spec.get("description", "")),
        )
        for prop, spec in raw.get("properties", {}).items()
    )
    return SchemaDoc(name=name, description=str(raw.get("description", "")), fields=fields)


def _grouped(
    operations: Sequence[tuple[str, Operation]],
) -> tuple[tuple[str, tuple[Operation, ...]], ...]:
    tags = dict.fromkeys(tag for tag, _ in operations)
    return tuple((tag, tuple(op for t, op in operations if t == tag)) for tag in tags)


def reference(document: Schema) -> ApiReference:
    """The reference for an OpenAPI 3 document, in the order the document gives."""
    operations = [
        (str((raw.get("tags") or ["other"])[0]), _operation(path, method, raw))
        for path, methods in document.get("paths", {}).items()
        for method, raw in methods.items()
    ]
    components = document.get("components", {})
    info = document.get("info", {})
    return ApiReference(
        title=str(info.get("title", "API")),
        version=str(info.get("version", "")),
        summary=str(info.get("summary") or info.get("description") or ""),
        groups=_grouped(operations),
        schemas=tuple(_schema(n, s) for n, s in sorted(components.get("schemas", {}).items())),
        bearer=any(
            scheme.get("scheme", "").lower() == "bearer"
            for scheme in components.get("securitySchemes", {}).values()
        ),
    )
