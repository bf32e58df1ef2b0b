"""Validating REMBI records against the generated JSON Schema.

The fast path compiles the JSON Schema of each class once per process into generated Python
code (metadata/schema/compiled.py; a few microseconds a record). Only an invalid record pays
for the full report: jsonschema lists every problem, and each becomes a message in plain
words that names its field.
Tests prove the verdicts equal linkml's own validator's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

import jsonschema

from metadata.schema.compiled import compile_class
from metadata.schema.generate import JSON_SCHEMA
from metadata.schema.model import RECORD_CLASSES, rembi_schema


class Level(StrEnum):
    ERROR = "error"  # blocks packaging
    WARNING = "warning"
    RECOMMENDED = "recommended"  # a recommended field is empty


@dataclass(frozen=True)
class Problem:
    level: Level
    path: str  # dotted path to the field, e.g. author.0.orcid
    message: str


class UnknownClass(ValueError):
    pass


@cache
def _json_schema() -> dict[str, Any]:
    return dict(json.loads(JSON_SCHEMA.read_text(encoding="utf-8")))


def _class_schema(class_name: str) -> dict[str, Any]:
    schema = _json_schema()
    if class_name not in schema["$defs"]:
        raise UnknownClass(f"{class_name!r} is not a REMBI class; use one of {', '.join(RECORD_CLASSES)}.")
    return {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{class_name}"}


_VALIDATORS: dict[str, Callable[[Any], bool]] = {}


def _compiled(class_name: str) -> Callable[[Any], bool]:
    # A plain dict rather than functools.cache: this runs once per record on the fast path.
    validator = _VALIDATORS.get(class_name)
    if validator is None:
        _class_schema(class_name)  # refuses unknown classes with a clear message
        validator = _VALIDATORS[class_name] = compile_class(_json_schema(), class_name)
    return validator


@cache
def _full_validator(class_name: str) -> jsonschema.protocols.Validator:
    schema = _class_schema(class_name)
    validator_class = jsonschema.validators.validator_for(schema)
    return validator_class(schema)


def is_valid(record: Any, class_name: str) -> bool:
    """The verdict alone, on the fast path."""
    return _compiled(class_name)(record)


def validate_record(record: Any, class_name: str) -> list[Problem]:
    """Every problem of a record: errors from the schema, then empty recommended fields."""
    problems: list[Problem] = []
    if not is_valid(record, class_name):
        errors = sorted(_full_validator(class_name).iter_errors(record), key=lambda e: list(e.absolute_path))
        problems.extend(Problem(Level.ERROR, _path(error), _explain(error, class_name)) for error in errors)
    if isinstance(record, dict):
        for slot in rembi_schema().classes[class_name].slots:
            if slot.recommended and record.get(slot.name) in (None, "", []):
                problems.append(
                    Problem(Level.RECOMMENDED, slot.name, f"{slot.label} is recommended: {slot.description}")
                )
    return problems


def _path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path)


def _field_label(error: jsonschema.ValidationError) -> str:
    names = [part for part in error.absolute_path if isinstance(part, str)]
    return names[-1].replace("_", " ").capitalize() if names else "The record"


def _pattern_help(error: jsonschema.ValidationError, class_name: str) -> str:
    """What a value of this field looks like, from the schema's type description."""
    names = [part for part in error.absolute_path if isinstance(part, str)]
    schema = rembi_schema()
    for cls in schema.classes.values():
        for slot in cls.slots:
            if names and slot.name == names[-1] and slot.pattern_help:
                return slot.pattern_help
    return "It does not have the expected form."


_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "array": "a list",
    "object": "a group of fields",
    "boolean": "yes or no",
}


def _explain(error: jsonschema.ValidationError, class_name: str) -> str:
    field = _field_label(error)
    value: Any = error.validator_value
    match error.validator:
        case "required":
            missing = str(error.message).split("'")[1] if "'" in error.message else error.message
            return f"{missing.replace('_', ' ').capitalize()} is required."
        case "additionalProperties":
            extra = ", ".join(re.findall(r"'([^']+)'", error.message)) or "A field"
            return f"{extra}: not a field of {class_name}; remove it or check its spelling."
        case "pattern":
            return f"{field}: {error.instance!r} is not valid. {_pattern_help(error, class_name)}"
        case "enum":
            allowed = ", ".join(str(item) for item in value)
            return f"{field}: {error.instance!r} is not one of the allowed values ({allowed})."
        case "type":
            expected = value if isinstance(value, str) else value[0]
            return f"{field} must be {_TYPE_WORDS.get(expected, expected)}."
        case "minItems":
            return f"{field} needs at least {value} entry."
        case "minimum" | "exclusiveMinimum":
            return f"{field} must be at least {value}."
        case "maximum" | "exclusiveMaximum":
            return f"{field} must be at most {value}."
        case _:
            return f"{field}: {error.message}"
