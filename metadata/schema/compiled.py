"""A validator generated from the REMBI JSON Schema as straight-line Python code.

The generated schema uses a small subset of JSON Schema (type, properties, required,
additionalProperties, items, minItems, enum, pattern, minimum, maximum, anyOf, $ref, format).
Translating exactly that subset into one Python function per class, with no per-keyword
calls, gives the same verdicts as a JSON Schema validator in a few microseconds a record.
Any other keyword is refused when compiling, so a schema change cannot silently weaken
validation; tests compare verdicts with linkml's own validator on hundreds of records.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from jsonschema import Draft202012Validator

_ANNOTATIONS = {"description", "title"}
_SUPPORTED = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "anyOf",
    "$ref",
    "format",
    *_ANNOTATIONS,
}
_FORMATS = Draft202012Validator.FORMAT_CHECKER


def _type_test(name: str, var: str) -> str:
    return {
        "string": f"isinstance({var}, str)",
        "integer": f"((isinstance({var}, int) and not isinstance({var}, bool)) or "
        f"(isinstance({var}, float) and {var}.is_integer()))",
        "number": f"(isinstance({var}, (int, float)) and not isinstance({var}, bool))",
        "boolean": f"isinstance({var}, bool)",
        "null": f"{var} is None",
        "array": f"isinstance({var}, list)",
        "object": f"isinstance({var}, dict)",
    }[name]


class _Generator:
    def __init__(self, definitions: dict[str, Any]) -> None:
        self.definitions = definitions
        self.functions: dict[str, list[str]] = {}
        self.constants: dict[str, Any] = {"_formats": _FORMATS, "_missing": object()}
        self.counter = 0
        self.inlining: list[str] = []

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def constant(self, prefix: str, value: Any) -> str:
        name = self.name(prefix)
        self.constants[name] = value
        return name

    def function_for_ref(self, ref: str) -> str:
        definition = ref.removeprefix("#/$defs/")
        name = f"_class_{re.sub(r'\\W', '_', definition)}"
        if name not in self.functions:
            self.functions[name] = []  # reserve the name before generating: references may recurse
            self.functions[name] = self.function_body(self.definitions[definition], definition)
        return name

    def function_for(self, schema: dict[str, Any]) -> str:
        name = self.name("_part")
        self.functions[name] = self.function_body(schema)
        return name

    def function_body(self, schema: dict[str, Any], name: str | None = None) -> list[str]:
        if name is not None:
            self.inlining.append(name)
        body = [*self.checks(schema, "value", 1), "    return True"]
        if name is not None:
            self.inlining.pop()
        return body

    def checks(self, schema: dict[str, Any], var: str, depth: int) -> list[str]:
        unknown = set(schema) - _SUPPORTED
        if unknown:
            raise NotImplementedError(
                f"JSON Schema keywords not supported by the fast path: {sorted(unknown)}"
            )
        pad = "    " * depth
        lines: list[str] = []
        if "$ref" in schema:
            definition = schema["$ref"].removeprefix("#/$defs/")
            if definition in self.inlining:  # a recursive reference needs a real function
                lines.append(f"{pad}if not {self.function_for_ref(schema['$ref'])}({var}): return False")
            else:
                # Inline the referenced class: a Python call costs more than most checks.
                self.inlining.append(definition)
                lines.extend(self.checks(self.definitions[definition], var, depth))
                self.inlining.pop()
        names = schema.get("type", [])
        names = names if isinstance(names, list) else [names]
        if names:
            lines.append(f"{pad}if not ({' or '.join(_type_test(n, var) for n in names)}): return False")
        # After a single-type check, the keywords below need not test the type again.
        sure = names[0] if len(names) == 1 else None
        if "enum" in schema:
            values = schema["enum"]
            if all(isinstance(v, str) for v in values):
                allowed = self.constant("_enum", frozenset(values))
                lines.append(f"{pad}if not (isinstance({var}, str) and {var} in {allowed}): return False")
            else:  # JSON equality: 1 and True differ, 1 and 1.0 do not
                allowed = self.constant("_enum", list(values))
                lines.append(
                    f"{pad}if not any({var} == a and (isinstance({var}, bool) == isinstance(a, bool)) "
                    f"for a in {allowed}): return False"
                )
        if "pattern" in schema:
            search = self.constant("_pattern", re.compile(schema["pattern"]).search)
            is_text = "" if sure == "string" else f"isinstance({var}, str) and "
            lines.append(f"{pad}if {is_text}{search}({var}) is None: return False")
        if "format" in schema and schema["format"] in _FORMATS.checkers:
            lines.append(f"{pad}if not _formats.conforms({var}, {schema['format']!r}): return False")
        number = f"(isinstance({var}, (int, float)) and not isinstance({var}, bool))"
        if "minimum" in schema:
            lines.append(f"{pad}if {number} and {var} < {schema['minimum']!r}: return False")
        if "maximum" in schema:
            lines.append(f"{pad}if {number} and {var} > {schema['maximum']!r}: return False")
        is_list = "True" if sure == "array" else f"isinstance({var}, list)"
        if "minItems" in schema:
            lines.append(f"{pad}if {is_list} and len({var}) < {schema['minItems']!r}: return False")
        if "items" in schema:
            item = self.name("_item")
            lines.append(f"{pad}if {is_list}:")
            lines.append(f"{pad}    for {item} in {var}:")
            lines.extend(self.checks(schema["items"], item, depth + 2) or [f"{pad}        pass"])
        if "anyOf" in schema:
            options = [self.function_for(option) for option in schema["anyOf"]]
            lines.append(f"{pad}if not ({' or '.join(f'{o}({var})' for o in options)}): return False")
        if {"properties", "required", "additionalProperties"} & set(schema):
            lines.extend(self.object_checks(schema, var, depth, known_object=sure == "object"))
        return lines

    def object_checks(self, schema: dict[str, Any], var: str, depth: int, *, known_object: bool) -> list[str]:
        pad = "    " * depth
        keys = self.name("_keys")
        test = "True" if known_object else f"isinstance({var}, dict)"
        lines = [f"{pad}if {test}:", f"{pad}    {keys} = {var}.keys()"]
        if schema.get("required"):
            required = self.constant("_required", frozenset(schema["required"]))
            lines.append(f"{pad}    if not {required} <= {keys}: return False")
        properties = schema.get("properties", {})
        if schema.get("additionalProperties", True) is False:
            allowed = self.constant("_allowed", frozenset(properties))
            lines.append(f"{pad}    if not {keys} <= {allowed}: return False")
        for name, subschema in properties.items():
            item = self.name("_field")
            checks = self.checks(subschema, item, depth + 2)
            if checks:
                # One dictionary lookup per field, present or not.
                lines.append(f"{pad}    {item} = {var}.get({name!r}, _missing)")
                lines.append(f"{pad}    if {item} is not _missing:")
                lines.extend(checks)
        return lines


def compile_class(schema: dict[str, Any], class_name: str) -> Callable[[Any], bool]:
    """A function telling whether a value is a valid instance of ``class_name``."""
    generator = _Generator(schema["$defs"])
    entry = generator.function_for_ref(f"#/$defs/{class_name}")
    source = "\n\n".join(
        f"def {name}(value):\n" + "\n".join(body) for name, body in generator.functions.items()
    )
    namespace: dict[str, Any] = dict(generator.constants)
    exec(compile(source, f"<rembi validator {class_name}>", "exec"), namespace)  # noqa: S102 - our own generated code
    function: Callable[[Any], bool] = namespace[entry]
    return function
