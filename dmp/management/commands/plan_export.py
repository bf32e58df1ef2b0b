from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dmp.exports import plan_export
from dmp.madmp import MadmpInvalid, plan_madmp
from dmp.models import Plan

STDOUT = "-"


class Command(BaseCommand):
    help = (
        "Export a plan: as an RDA DMP Common Standard 1.2 maDMP (JSON, validated against the official "
        "schema), or for people as an A4 PDF, a standalone HTML page or Markdown."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("plan_id", type=int)
        parser.add_argument("--format", dest="kind", choices=["madmp", "pdf", "html", "md"], default="madmp")
        parser.add_argument(
            "--output",
            default=STDOUT,
            help="File to write; '-' (the default) writes text formats to standard output.",
        )

    def handle(self, *args: Any, plan_id: int, kind: str, output: str, **options: Any) -> None:
        plan = Plan.objects.select_related("template", "project").filter(pk=plan_id).first()
        if plan is None:
            raise CommandError(f"There is no plan {plan_id}.")
        if kind == "pdf" and output == STDOUT:
            raise CommandError("A PDF is binary: name a file with --output FILE.pdf.")
        if kind == "madmp":
            try:
                content = (json.dumps(plan_madmp(plan), indent=2, ensure_ascii=False) + "\n").encode()
            except MadmpInvalid as exc:
                raise CommandError(f"The maDMP would not validate: {exc}") from None
        else:
            content = plan_export(plan=plan, kind=kind).content
        if output == STDOUT:
            self.stdout.write(content.decode(), ending="")
            return
        try:
            Path(output).write_bytes(content)
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc.strerror}.") from None
        self.stdout.write(f"Wrote {output} ({len(content):,} bytes).")
