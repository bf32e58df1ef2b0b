"""Generate the REMBI artifacts from rembi.yaml: JSON Schema, JSON-LD context, SHACL shapes.

Run `uv run manage.py rembi_generate` after editing the schema and commit the results;
tests fail while the committed files differ from what the schema generates.
"""

from __future__ import annotations

import json
from pathlib import Path

SCHEMA = Path(__file__).resolve().parent / "rembi.yaml"
GENERATED = SCHEMA.parent / "generated"
JSON_SCHEMA = GENERATED / "rembi.schema.json"
CONTEXT = GENERATED / "rembi.context.jsonld"
SHACL = GENERATED / "rembi.shacl.ttl"


def generate_artifacts() -> dict[Path, str]:
    """The generated files and their contents; deterministic (no dates, no absolute paths)."""
    # linkml is a development dependency: only generation and the reference tests import it.
    from linkml.generators.jsonldcontextgen import ContextGenerator
    from linkml.generators.jsonschemagen import JsonSchemaGenerator
    from linkml.generators.shaclgen import ShaclGenerator

    schema = str(SCHEMA)
    json_schema = json.loads(JsonSchemaGenerator(schema, mergeimports=True).serialize())
    context = ContextGenerator(schema, metadata=False, mergeimports=True).serialize()
    shacl = ShaclGenerator(schema, metadata=False, mergeimports=True).serialize()
    return {
        JSON_SCHEMA: json.dumps(json_schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        CONTEXT: context.rstrip() + "\n",
        SHACL: shacl.rstrip() + "\n",
    }


def write_artifacts() -> list[Path]:
    GENERATED.mkdir(exist_ok=True)
    written = []
    for path, content in generate_artifacts().items():
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
            written.append(path)
    return written
