from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError, CommandParser

from metadata.schema.model import RECORD_CLASSES
from metadata.validation import Level, UnknownClass, validate_record


def _load(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path} could not be read: {exc}") from None
    try:
        # YAML is a superset of JSON, so one parser reads both.
        return yaml.safe_load(text) if path.suffix.lower() != ".json" else json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise CommandError(f"{path} is not valid YAML or JSON: {exc}") from None


class Command(BaseCommand):
    help = (
        "Validate a REMBI record (JSON or YAML) against the schema. With --class, the file is one "
        "record of that class; without it, the file maps class names to records. Exits 1 when invalid."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--class", dest="class_name", choices=RECORD_CLASSES, help="The record's REMBI class."
        )

    def handle(self, *args: Any, file: Path, class_name: str | None, **options: Any) -> None:
        data = _load(file)
        if class_name is not None:
            records = [(class_name, data)]
        elif isinstance(data, dict) and data and set(data) <= set(RECORD_CLASSES):
            records = list(data.items())
        else:
            raise CommandError(
                "Name the record's class with --class, or map class names to records in the file."
            )
        errors = 0
        for name, record in records:
            try:
                problems = validate_record(record, name)
            except UnknownClass as exc:
                raise CommandError(str(exc)) from None
            record_errors = [p for p in problems if p.level == Level.ERROR]
            errors += len(record_errors)
            self.stdout.write(f"{'invalid' if record_errors else 'valid'} {name}")
            for problem in problems:
                where = problem.path or "(record)"
                self.stdout.write(f"  {problem.level.value:<11} {where}: {problem.message}")
        if errors:
            raise CommandError(f"{errors} error(s) in {file}.")
