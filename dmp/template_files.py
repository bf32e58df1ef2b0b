"""DMP template files: reading, validating against dmp/template_schema.json, and the rules a
JSON Schema cannot state (unique question keys, conditions naming earlier questions)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
SCHEMA_FILE = Path(__file__).resolve().parent / "template_schema.json"


class TemplateError(ValueError):
    """A template file that cannot be used; the message names the file and the place."""


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    return validator_class(schema)


@dataclass(frozen=True)
class TemplateFile:
    path: Path
    content: dict[str, Any]
    sha256: str

    @property
    def key(self) -> str:
        return str(self.content["key"])

    @property
    def version(self) -> str:
        return str(self.content["version"])


def iter_sections(
    sections: list[dict[str, Any]], repeat: str | None = None
) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Every section, depth first, with the repeatable block it belongs to (if any)."""
    for section in sections:
        block = section.get("repeat") or repeat
        yield section, block
        yield from iter_sections(section.get("sections", []), block)


def iter_questions(content: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any], str | None]]:
    """(question, its section, its repeatable block) in the order the plan asks them."""
    for section, block in iter_sections(content["sections"]):
        for question in section.get("questions", []):
            yield question, section, block


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, except that a key given twice in one mapping is an error: PyYAML would
    keep the last one silently, and a second ``questions:`` in a section would drop the first."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"the key {key!r} is given twice",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _where(error: jsonschema.ValidationError) -> str:
    return "/".join(str(part) for part in error.absolute_path) or "(top)"


def read_template(path: Path) -> TemplateFile:
    """Read and check one template file; raises TemplateError with every problem found."""
    try:
        raw = path.read_bytes()
        content = yaml.load(raw.decode("utf-8"), Loader=_StrictLoader)  # noqa: S506 - a safe loader
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TemplateError(f"{path.name}: cannot be read as YAML: {exc}") from None
    except RecursionError:
        raise TemplateError(f"{path.name}: cannot be read as YAML: it is nested too deeply.") from None
    if not isinstance(content, dict):
        raise TemplateError(f"{path.name}: a template is a mapping with key, version, title, … sections.")
    problems = [f"{_where(e)}: {e.message}" for e in _validator().iter_errors(content)]
    if problems:
        raise TemplateError(f"{path.name}: " + "; ".join(problems[:10]))
    seen: set[str] = set()
    blocks: dict[str, str | None] = {}
    for question, _section, block in iter_questions(content):
        key = question["key"]
        if key in seen:
            problems.append(f"question key {key!r} is used twice")
        condition = question.get("condition")
        if condition and condition["question"] not in seen:
            problems.append(
                f"{key}: its condition names {condition['question']!r}, which is not an earlier question"
            )
        elif condition and blocks.get(condition["question"]) not in (None, block):
            problems.append(f"{key}: its condition names a question of another repeatable block")
        seen.add(key)
        blocks[key] = block
    if problems:
        raise TemplateError(f"{path.name}: " + "; ".join(problems))
    return TemplateFile(path=path, content=content, sha256=hashlib.sha256(raw).hexdigest())


def shipped_templates() -> list[TemplateFile]:
    return [read_template(path) for path in sorted(TEMPLATE_DIR.glob("*.yaml"))]
