from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dmp.services import templates_load
from dmp.template_files import TemplateError


class Command(BaseCommand):
    help = "Load or update the DMP templates shipped in dmp/templates/ (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = templates_load()
        except TemplateError as exc:
            raise CommandError(str(exc)) from None
        for label, names in (
            ("new", report.created),
            ("updated", report.updated),
            ("unchanged", report.unchanged),
        ):
            if names:
                self.stdout.write(f"{label}: {', '.join(names)}")
        counts = (
            f"{len(report.created)} new, {len(report.updated)} updated, {len(report.unchanged)} unchanged"
        )
        self.stdout.write(self.style.SUCCESS(f"DMP templates: {counts}."))
