from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from metadata.imaging import InspectionError, inspect_path, walk_units


def _targets(paths: list[str]) -> list[Path]:
    """Files as given; folders expanded into their scan units (an OME-Zarr folder is one)."""
    targets: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir() and not path.name.lower().endswith(".zarr"):
            targets.extend(path / unit.relative_path for unit in walk_units(path))
        else:
            targets.append(path)
    return targets


class Command(BaseCommand):
    help = (
        "Print the technical metadata of image files or folders from their headers, without "
        "touching the database: one JSON object per image (or error) with --json."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", help="Files or folders to inspect.")
        parser.add_argument("--json", action="store_true", help="One JSON object per line.")
        parser.add_argument("--ome-xml", action="store_true", help="Include the OME-XML in the JSON output.")

    def handle(self, *args: Any, paths: list[str], ome_xml: bool, **options: Any) -> None:
        errors = 0
        for path in _targets(paths):
            try:
                record = inspect_path(path)
            except InspectionError as exc:
                errors += 1
                error = {
                    "path": str(path),
                    "format": exc.format,
                    "error": exc.code.value,
                    "message": exc.message,
                }
                self._emit(options["json"], error)
                continue
            self._emit(options["json"], {"path": str(path), **record.to_json(include_ome_xml=ome_xml)})
        if errors:
            sys.stderr.write(f"{errors} file(s) could not be read; see their messages.\n")

    def _emit(self, as_json: bool, data: dict[str, Any]) -> None:
        if as_json:
            self.stdout.write(json.dumps(data, default=str, ensure_ascii=False))
            return
        if "error" in data:
            self.stdout.write(f"{data['path']}: ERROR ({data['error']}) {data['message']}")
            return
        dims = " ".join(f"{axis}={n}" for axis, n in data["dims"].items())
        sizes = ", ".join(f"{axis} {value:.4g} µm" for axis, value in data["pixel_size_um"].items())
        channels = ", ".join(channel["name"] or "?" for channel in data["channels"])
        line = f"{data['path']}: {data['format']} {dims} {data['dtype'] or ''}"
        if sizes:
            line += f"; pixel size {sizes}"
        if channels:
            line += f"; channels {channels}"
        self.stdout.write(line)
