from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from repositories.embargo import embargo_sweep
from repositories.tasks import release_checks_queue


class Command(BaseCommand):
    help = (
        "Queue the embargo reminders that are due (each exactly once, never for withdrawn or public "
        "submissions) and report the embargo states; queue a check of each Zenodo record FAIRlight "
        "deposited whose release date has come, which marks the submission public once Zenodo shows "
        "the files. Idempotent: run it every few minutes from cron or a systemd timer; overlapping "
        "runs do no harm. The workers send the emails and ask Zenodo."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        summary = embargo_sweep()
        checks = release_checks_queue()
        self.stdout.write(
            f"{summary} {checks} record{'s' if checks != 1 else ''} at the archive to check for release."
        )
