from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.defaultfilters import filesizeformat

from metadata.models import Dataset, ScanRun
from metadata.selectors import scan_progress
from metadata.services import scan_run_inline, scan_start


class Command(BaseCommand):
    help = (
        "Scan a dataset (header metadata and checksums). Workers run the scan; --wait shows its "
        "progress until it ends, --here runs it in this process instead. Running it again resumes "
        "an interrupted scan."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dataset_id", type=int)
        parser.add_argument("--wait", action="store_true", help="Show progress until the scan ends.")
        parser.add_argument("--here", action="store_true", help="Run the scan in this process.")

    def handle(self, *args: Any, dataset_id: int, wait: bool, here: bool, **options: Any) -> None:
        dataset = Dataset.objects.filter(pk=dataset_id).first()
        if dataset is None:
            raise CommandError(f"There is no dataset {dataset_id}.")
        run = scan_start(dataset=dataset)
        self.stdout.write(f"Scan {run.pk} of “{dataset}” started.")
        if here:
            scan_run_inline(run=run)
        if wait or here:
            self._wait(run)

    def _wait(self, run: ScanRun) -> None:
        last = ""
        while True:
            run.refresh_from_db()
            progress = scan_progress(run)
            line = (
                f"[{progress.bar(30)}] {progress.percent:5.1f}%  {run.files_done}/{run.files_total} files  "
                f"{filesizeformat(run.bytes_done)}/{filesizeformat(run.bytes_total)}  "
                f"{filesizeformat(progress.bytes_per_second)}/s  ETA {progress.eta_text}"
            )
            if line != last:
                self.stdout.write(line)
                last = line
            if not run.is_active:
                break
            time.sleep(1)
        if run.status == ScanRun.Status.FAILED:
            raise CommandError(f"The scan failed: {run.message}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Scan finished: {run.files_done} files, {run.files_skipped} unchanged, "
                f"{run.files_failed} with errors."
            )
        )
