from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dmp.madmp import MadmpInvalid, plan_madmp
from dmp.models import Plan


class Command(BaseCommand):
    help = (
        "Export a plan as an RDA DMP Common Standard 1.2 maDMP (JSON), validated against the official schema."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("plan_id", type=int)
        parser.add_argument("--format", choices=["madmp"], default="madmp")
        parser.add_argument("--output", type=Path, help="File to write (default: standard output).")

    def handle(self, *args: Any, plan_id: int, output: Path | None, **options: Any) -> None:
        plan = Plan.objects.select_related("template", "project").filter(pk=plan_id).first()
        if plan is None:
            raise CommandError(f"There is no plan {plan_id}.")
        try:
            text = json.dumps(plan_madmp(plan), indent=2, ensure_ascii=False)
        except MadmpInvalid as exc:
            raise CommandError(f"The maDMP would not validate: {exc}") from None
        if output is None:
            self.stdout.write(text)
        else:
            output.write_text(text + "\n", encoding="utf-8")
            self.stdout.write(f"Wrote {output}.")
