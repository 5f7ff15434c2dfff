"""The OpenAPI 3 registry: every endpoint declares its operation here, and the document is built from it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from portal.api.schema import Object, Type

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "description": "Machine-readable reason, e.g. `validation_failed`."},
                "message": {"type": "string", "description": "Human-readable, in the club's language."},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "description": "Per-field reasons (e.g. `required`, `wrong_type`, `unknown_field`).",
                },
            },
        }
    },
}

ERROR_RESPONSES = {
    400: ("BadRequest", "Malformed request: not JSON, a bad cursor or query parameter."),
    401: ("Unauthorized", "No API key, an unknown key or a revoked key."),
    403: ("Forbidden", "The key lacks the scope, or the member may not do this."),
    404: ("NotFound", "Nothing with that id or reference."),
    409: ("Conflict", "The request conflicts with the current state."),
    413: ("PayloadTooLarge", "The body is larger than the API accepts."),
    422: ("ValidationFailed", "The body is JSON but its values are not valid; `fields` names them."),
    429: ("TooManyRequests", "The key's rate limit is used up; retry after `Retry-After` seconds."),
}


@dataclass(frozen=True)
class QueryParam:
    name: str
    schema: dict[str, Any]
    description: str = ""
    required: bool = False


LIMIT_PARAM = QueryParam(
    "limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "How many items (at most 100)."
)
CURSOR_PARAM = QueryParam(
    "cursor",
    {"type": "string", "maxLength": 500},
    "The `next_cursor` of the previous page; opaque, omit it for the first page.",
)


@dataclass
class Operation:
    """One method on one path, with what it needs and what it answers."""

    operation_id: str
    method: str
    path: str  # in OpenAPI form: /members/{ref}
    summary: str
    scopes: tuple[str, ...] = ()
    session: bool = False
    public: bool = False
    body: Object | None = None
    responses: dict[int, tuple[str, Type | None]] = field(default_factory=dict)
    query: tuple[QueryParam, ...] = ()
    path_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    description: str = ""

    def to_openapi(self) -> dict[str, Any]:
        operation: dict[str, Any] = {
            "operationId": self.operation_id,
            "summary": self.summary,
            "tags": list(self.tags),
            "responses": {},
        }
        text = self.description
        if self.scopes:
            text = (text + "\n\n" if text else "") + "Scopes: " + ", ".join(f"`{s}`" for s in self.scopes) + "."
        if self.session:
            text = (text + "\n\n" if text else "") + "A logged-in browser session may call it for its own member."
        if text:
            operation["description"] = text
        operation["x-scopes"] = list(self.scopes)
        security: list[dict[str, list[str]]] = []
        if not self.public:
            security.append({"bearerAuth": []})
            if self.session:
                security.append({"sessionCookie": []})
        else:
            if self.scopes:  # a key with the scopes, or no credentials at all
                security.append({"bearerAuth": []})
            security.append({})
        operation["security"] = security
        parameters: list[dict[str, Any]] = []
        for name, schema in self.path_params.items():
            parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
        for param in self.query:
            entry: dict[str, Any] = {"name": param.name, "in": "query", "required": param.required}
            entry["schema"] = param.schema
            if param.description:
                entry["description"] = param.description
            parameters.append(entry)
        if parameters:
            operation["parameters"] = parameters
        if self.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": self.body.json_schema()}},
            }
        for status, (description, schema) in sorted(self.responses.items()):
            response: dict[str, Any] = {"description": description}
            if schema is not None:
                response["content"] = {"application/json": {"schema": schema.json_schema()}}
            operation["responses"][str(status)] = response
        for status in self.error_statuses():
            operation["responses"][str(status)] = {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"}
        return operation

    def error_statuses(self) -> list[int]:
        statuses = {400, 429, *self.errors}
        if not self.public:
            statuses |= {401, 403}
        if self.body is not None:
            statuses |= {413, 422}
        if self.path_params:
            statuses.add(404)
        return sorted(statuses)

    def schemas(self) -> list[Object]:
        found: list[Object] = []
        candidates = [self.body, *(schema for _, schema in self.responses.values())]
        for schema in candidates:
            inner = getattr(schema, "items", None) if schema is not None and not isinstance(schema, Object) else schema
            if isinstance(inner, Object):
                if inner.name:
                    found.append(inner)
                found.extend(inner.nested())
        return found


class Registry:
    """Every operation of ``/api/v1``; endpoint modules fill it at import time."""

    def __init__(self) -> None:
        self.operations: dict[str, Operation] = {}

    def add(self, operation: Operation) -> None:
        if operation.operation_id in self.operations:
            raise ValueError(f"API operation {operation.operation_id!r} is declared twice")
        self.operations[operation.operation_id] = operation

    def document(self, *, server_url: str, title: str, version: str = "1.0.0") -> dict[str, Any]:
        paths: dict[str, dict[str, Any]] = {}
        components: dict[str, Any] = {"Error": ERROR_SCHEMA}
        for operation in sorted(self.operations.values(), key=lambda op: (op.path, op.method)):
            paths.setdefault(operation.path, {})[operation.method.lower()] = operation.to_openapi()
            for schema in operation.schemas():
                components[schema.name] = schema.component_schema()  # type: ignore[index]
        responses: dict[str, Any] = {}
        for status, (name, description) in ERROR_RESPONSES.items():
            response: dict[str, Any] = {
                "description": description,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
            if status == 429:
                response["headers"] = {
                    "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}, "required": True}
                }
            if status == 401:
                response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
            responses[name] = response
        return {
            "openapi": "3.0.3",
            "info": {
                "title": title,
                "version": version,
                "description": "The integration API of the club: members, points events, ledgers, leaderboards, "
                "rewards, tickets and webhooks. Errors always have the shape of `Error`; lists are paginated with "
                "`limit` and an opaque `cursor`, and answer `items` and `next_cursor`.",
            },
            "servers": [{"url": server_url}],
            "paths": paths,
            "components": {
                "schemas": components,
                "responses": responses,
                "securitySchemes": {
                    "bearerAuth": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "An API key created by an admin, sent as `Authorization: Bearer <key>`.",
                    },
                    "sessionCookie": {
                        "type": "apiKey",
                        "in": "cookie",
                        "name": "session",
                        "description": "A logged-in browser session, for the member's own data.",
                    },
                },
            },
        }


def openapi_path(rule: str) -> tuple[str, list[str]]:
    """Turns a Flask rule (``/members/<ref>``) into OpenAPI form and lists its parameters."""
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        names.append(match.group(2))
        return "{" + match.group(2) + "}"

    return re.sub(r"<(?:(\w+):)?(\w+)>", replace, rule), names


registry = Registry()
