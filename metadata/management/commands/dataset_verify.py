from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from metadata.models import Dataset
from metadata.services import dataset_verify


class Command(BaseCommand):
    help = (
        "Re-hash every file of a dataset and list files that changed, went missing or are new "
        "since the last scan. Exits 1 when anything differs, so scripts can stop before deleting a source."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dataset_id", type=int)
        parser.add_argument("--jobs", type=int, default=1, help="Hash with this many processes.")

    def handle(self, *args: Any, dataset_id: int, jobs: int, **options: Any) -> None:
        dataset = Dataset.objects.filter(pk=dataset_id).first()
        if dataset is None:
            raise CommandError(f"There is no dataset {dataset_id}.")
        if dataset.scanned_at is None:
            raise CommandError("This dataset has not been scanned yet; run dataset_scan first.")
        report = dataset_verify(dataset=dataset, jobs=max(jobs, 1))
        for label, paths in (("CHANGED", report.changed), ("MISSING", report.missing), ("NEW", report.new)):
            for path in paths or []:
                self.stdout.write(f"{label}  {path}")
        summary = (
            f"{report.checked} files re-hashed: {len(report.changed or [])} changed, "
            f"{len(report.missing or [])} missing, {len(report.new or [])} new."
        )
        if not report.ok:
            raise CommandError(summary)
        self.stdout.write(self.style.SUCCESS(summary + " The copy is intact."))
