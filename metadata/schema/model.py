"""A light, read-only view of rembi.yaml for forms, prefill and reports.

linkml's SchemaView would do, but it pulls the whole linkml toolchain into every worker;
FAIRlight needs only classes, their slots and each slot's range, cardinality and text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import yaml

from metadata.schema.generate import SCHEMA

# The REMBI modules FAIRlight stores as records, in the order people fill them in.
RECORD_CLASSES = (
    "Study",
    "StudyComponent",
    "Biosample",
    "Specimen",
    "ImageAcquisition",
    "ImageData",
    "ImageCorrelation",
    "AnalyzedData",
    "AnnotationMethod",
)
_BUILTIN_RANGES = {"string", "integer", "float", "boolean", "uri", "uriorcurie", "date"}


@dataclass(frozen=True)
class Slot:
    name: str
    description: str
    range: str
    required: bool = False
    recommended: bool = False
    multivalued: bool = False
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    pattern_help: str = ""

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class SchemaClass:
    name: str
    description: str
    slots: tuple[Slot, ...]

    def slot(self, name: str) -> Slot:
        return next(slot for slot in self.slots if slot.name == name)


@dataclass(frozen=True)
class RembiSchema:
    classes: dict[str, SchemaClass]
    enums: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def is_class(self, range_name: str) -> bool:
        return range_name in self.classes

    def is_enum(self, range_name: str) -> bool:
        return range_name in self.enums


def _slot(name: str, definition: dict[str, Any], types: dict[str, Any]) -> Slot:
    range_name = definition.get("range", "string")
    pattern = definition.get("pattern")
    pattern_help = ""
    if range_name in types:  # a typed string such as Orcid: its pattern and what it looks like
        pattern = pattern or types[range_name].get("pattern")
        pattern_help = types[range_name].get("description", "")
        range_name = types[range_name].get("typeof", "string")
    return Slot(
        name=name,
        description=definition.get("description", ""),
        range=range_name,
        required=bool(definition.get("required")),
        recommended=bool(definition.get("recommended")),
        multivalued=bool(definition.get("multivalued")),
        minimum=definition.get("minimum_value"),
        maximum=definition.get("maximum_value"),
        pattern=pattern,
        pattern_help=pattern_help,
    )


@cache
def rembi_schema() -> RembiSchema:
    data = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    global_slots = data.get("slots", {})
    types = data.get("types", {})
    classes = {}
    for class_name, definition in data.get("classes", {}).items():
        slots = []
        usage = definition.get("slot_usage", {})
        for slot_name in definition.get("slots", []):
            merged = {**global_slots.get(slot_name, {}), **usage.get(slot_name, {})}
            merged.pop("identifier", None)
            slots.append(_slot(slot_name, merged, types))
        for slot_name, attribute in (definition.get("attributes") or {}).items():
            slots.append(_slot(slot_name, attribute or {}, types))
        classes[class_name] = SchemaClass(class_name, definition.get("description", ""), tuple(slots))
    enums = {
        name: [
            (value, (meta or {}).get("description", "")) for value, meta in enum["permissible_values"].items()
        ]
        for name, enum in data.get("enums", {}).items()
    }
    return RembiSchema(classes=classes, enums=enums)
