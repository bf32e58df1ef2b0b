from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from metadata.schema.generate import GENERATED, write_artifacts


class Command(BaseCommand):
    help = (
        "Regenerate the REMBI JSON Schema, JSON-LD context and SHACL shapes from metadata/schema/rembi.yaml."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        written = write_artifacts()
        for path in written:
            self.stdout.write(f"wrote {path.relative_to(GENERATED.parent.parent.parent)}")
        self.stdout.write(self.style.SUCCESS(f"{len(written)} file(s) changed."))
