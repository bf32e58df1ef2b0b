from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from repositories.embargo import embargo_sweep


class Command(BaseCommand):
    help = (
        "Queue the embargo reminders that are due (each exactly once, never for withdrawn or public "
        "submissions) and report the embargo states. Idempotent: run it every few minutes from cron "
        "or a systemd timer; overlapping runs do no harm. The workers send the emails."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(str(embargo_sweep()))
