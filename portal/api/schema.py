"""Declared JSON shapes: one definition both validates request bodies and describes them in OpenAPI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Integers beyond what JSON numbers and 64-bit columns both carry exactly are refused.
SAFE_INT = 2**53 - 1
# No column can store NUL; the documented patterns say so, so that clients (and fuzzers) know.
NO_NUL = "^[^\\u0000]*$"
NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"


class Invalid(ValueError):
    """A value does not fit its declared type; ``code`` is the machine-readable reason."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code


def clean_text(value: str) -> str:
    """Refuses text no database column can hold: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise Invalid("invalid", "must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Invalid("invalid", "must be valid Unicode text") from exc
    return value


@dataclass
class Type:
    """Base of the declared types; ``nullable`` lets JSON ``null`` through as ``None``."""

    description: str | None = field(default=None, kw_only=True)
    nullable: bool = field(default=False, kw_only=True)
    example: Any = field(default=None, kw_only=True)

    def json_schema(self) -> dict[str, Any]:
        schema = self._schema()
        if self.nullable:
            schema["nullable"] = True
        if self.description:
            schema["description"] = self.description
        if self.example is not None:
            schema["example"] = self.example
        return schema

    def _schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def validate(self, value: Any) -> Any:
        if value is None:
            if self.nullable:
                return None
            raise Invalid("required", "must not be null")
        return self._validate(value)

    def _validate(self, value: Any) -> Any:
        raise NotImplementedError


@dataclass
class String(Type):
    min_length: int = 0
    max_length: int | None = None
    enum: tuple[str, ...] | None = None
    format: str | None = None
    pattern: str | None = None
    strip: bool = True

    def _schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string"}
        if self.min_length:
            schema["minLength"] = self.min_length
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.enum:
            schema["enum"] = list(self.enum)
        if self.format:
            schema["format"] = self.format
        if self.pattern:
            schema["pattern"] = self.pattern
        elif not self.enum:
            schema["pattern"] = NOT_BLANK if self.min_length and self.strip else NO_NUL
        return schema

    def _validate(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise Invalid("wrong_type", "must be a string")
        value = clean_text(value)
        if self.max_length is not None and len(value) > self.max_length:
            raise Invalid("too_long", f"must be at most {self.max_length} characters")
        if self.strip:
            value = value.strip()
        if len(value) < self.min_length:
            raise Invalid("required" if not value else "too_short", f"must be at least {self.min_length} characters")
        if self.enum and value not in self.enum:
            raise Invalid("not_allowed", "must be one of " + ", ".join(self.enum))
        return value


@dataclass
class Integer(Type):
    minimum: int | None = -SAFE_INT
    maximum: int | None = SAFE_INT

    def _schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "integer", "format": "int64"}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema

    def _validate(self, value: Any) -> Any:
        # JSON true/false are not numbers, although Python's bool is an int.
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid("wrong_type", "must be an integer")
        if self.minimum is not None and value < self.minimum:
            raise Invalid("too_small", f"must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise Invalid("too_large", f"must be at most {self.maximum}")
        return value


@dataclass
class Boolean(Type):
    def _schema(self) -> dict[str, Any]:
        return {"type": "boolean"}

    def _validate(self, value: Any) -> Any:
        if not isinstance(value, bool):
            raise Invalid("wrong_type", "must be true or false")
        return value


@dataclass
class DateTime(Type):
    """An ISO 8601 time with an offset, read as a timezone-aware ``datetime``."""

    def _schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}

    def _validate(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise Invalid("wrong_type", "must be an ISO 8601 time string")
        try:
            parsed = datetime.fromisoformat(clean_text(value).strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise Invalid("invalid", "must be an ISO 8601 time") from exc
        if parsed.tzinfo is None:
            raise Invalid("invalid", "must carry a time zone offset")
        return parsed


@dataclass
class Array(Type):
    items: Type = field(default_factory=lambda: String())
    min_items: int = 0
    max_items: int | None = None

    def _schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array", "items": self.items.json_schema()}
        if self.min_items:
            schema["minItems"] = self.min_items
        if self.max_items is not None:
            schema["maxItems"] = self.max_items
        return schema

    def _validate(self, value: Any) -> Any:
        if not isinstance(value, list):
            raise Invalid("wrong_type", "must be a list")
        if len(value) < self.min_items:
            raise Invalid("too_short", f"must have at least {self.min_items} items")
        if self.max_items is not None and len(value) > self.max_items:
            raise Invalid("too_long", f"must have at most {self.max_items} items")
        return [self.items.validate(item) for item in value]


@dataclass
class Attributes(Type):
    """A free object of scalar values (strings, numbers, booleans, null), e.g. an event's attributes."""

    max_properties: int = 50

    def _schema(self) -> dict[str, Any]:
        text = {"type": "string", "maxLength": 500, "pattern": NO_NUL}
        scalar = {"oneOf": [text, {"type": "number"}, {"type": "boolean"}]}
        return {
            "type": "object",
            "maxProperties": self.max_properties,
            "additionalProperties": {**scalar, "nullable": True},
        }

    def _validate(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise Invalid("wrong_type", "must be an object")
        if len(value) > self.max_properties:
            raise Invalid("too_long", f"must have at most {self.max_properties} keys")
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            # Keys cannot be constrained in an OpenAPI 3.0 document, so NULs are dropped rather than refused.
            key = clean_text(key.replace("\x00", ""))
            if isinstance(item, str):
                if len(item) > 500:
                    raise Invalid("too_long", f"{key}: at most 500 characters")
                item = clean_text(item)
            elif isinstance(item, float) and item != item:  # NaN cannot be stored as JSON
                raise Invalid("invalid", f"{key}: not a number")
            elif item is not None and not isinstance(item, bool | int | float):
                raise Invalid("wrong_type", f"{key}: must be a string, number, boolean or null")
            cleaned[key] = item
        return cleaned


@dataclass
class MemberRef(Type):
    """A member named by id (an integer or its digits) or by ``ext:<external_id>``."""

    def _schema(self) -> dict[str, Any]:
        return {
            "oneOf": [
                {"type": "integer", "minimum": 1, "maximum": SAFE_INT},
                {"type": "string", "pattern": r"^(ext:.{1,100}|[0-9]{1,15})$", "maxLength": 104},
            ]
        }

    def _validate(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise Invalid("wrong_type", "must be a member id or ext:<external_id>")
        return clean_text(str(value)) if isinstance(value, str) else value


@dataclass
class Object(Type):
    """A JSON object with declared properties; unknown properties are refused unless ``open``.

    A named object becomes a reusable component (``#/components/schemas/<name>``).
    """

    name: str | None = None
    properties: Mapping[str, Type] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    open: bool = False

    def _schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {key: value.json_schema() for key, value in self.properties.items()},
            "additionalProperties": self.open,
        }
        if self.required:
            schema["required"] = list(self.required)
        return schema

    def json_schema(self) -> dict[str, Any]:
        if self.name:
            ref: dict[str, Any] = {"$ref": f"#/components/schemas/{self.name}"}
            # A $ref may not carry siblings in OpenAPI 3.0, so nullability wraps it.
            return {"allOf": [ref], "nullable": True} if self.nullable else ref
        return super().json_schema()

    def component_schema(self) -> dict[str, Any]:
        return Type.json_schema(self)

    def nested(self) -> list[Object]:
        """Named objects used inside this one (for the components section)."""
        found: list[Object] = []
        for value in self.properties.values():
            inner = value.items if isinstance(value, Array) else value
            if isinstance(inner, Object):
                if inner.name:
                    found.append(inner)
                found.extend(inner.nested())
        return found

    def validate_fields(self, value: Any) -> tuple[dict[str, Any], dict[str, str]]:
        """Validates an object; returns the cleaned values and the per-field error codes."""
        if not isinstance(value, dict):
            return {}, {"body": "must be a JSON object"}
        errors: dict[str, str] = {}
        cleaned: dict[str, Any] = {}
        if not self.open:
            for key in value:
                if key not in self.properties:
                    errors[str(key)] = "unknown_field"
        for key in self.required:
            if key not in value:
                errors[key] = "required"
        for key, kind in self.properties.items():
            if key not in value:
                continue
            try:
                cleaned[key] = kind.validate(value[key])
            except Invalid as exc:
                errors[key] = exc.code
        return cleaned, errors

    def _validate(self, value: Any) -> Any:
        cleaned, errors = self.validate_fields(value)
        if errors:
            first = next(iter(errors.items()))
            raise Invalid(f"{first[0]}: {first[1]}")
        return cleaned
