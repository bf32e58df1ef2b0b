from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dmp.demo import demo_plan_ensure
from dmp.services import templates_load
from metadata.demo import demo_dataset_ensure
from projects.demo import demo_ensure
from vocabularies.services import ontologies_load

MANAGE_PY = Path(settings.BASE_DIR) / "manage.py"


class Command(BaseCommand):
    help = (
        "Prepare the embedded default (migrate, reference and demo data) and serve FAIRlight "
        "on 127.0.0.1:8000 together with a task worker. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-serve", action="store_true", help="Prepare everything, then exit without serving."
        )
        parser.add_argument(
            "--addr", default="127.0.0.1:8000", help="Address to serve on (default: %(default)s)."
        )

    def handle(self, *args: Any, no_serve: bool, addr: str, **options: Any) -> None:
        self.stdout.write("Preparing the database …")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Loading ontologies …")
        loaded = ontologies_load().values()
        created, updated = sum(r.created for r in loaded), sum(r.updated for r in loaded)
        self.stdout.write(
            f"Ontology terms: {created} new, {updated} updated, {sum(r.unchanged for r in loaded)} unchanged."
        )
        templates = templates_load()
        self.stdout.write(
            f"DMP templates: {len(templates.created)} new, {len(templates.updated)} updated, "
            f"{len(templates.unchanged)} unchanged."
        )
        self.stdout.write("Loading demo data …")
        credentials_file = Path(settings.VAR_DIR) / "demo-credentials.txt"
        demo = demo_ensure(credentials_file=credentials_file)
        dataset = demo_dataset_ensure(project=demo.project, user=demo.user)
        if dataset is not None:
            self.stdout.write(f"Demo dataset: {dataset} ({dataset.file_count} files scanned).")
        plan = demo_plan_ensure(project=demo.project, user=demo.user)
        if plan is not None:
            self.stdout.write(f"Demo plan: {plan} ({plan.answers.count()} answers).")
        self._print_credentials(demo.user.username, demo.password, credentials_file, addr)
        if no_serve:
            self.stdout.write(self.style.SUCCESS("Ready. Run without --no-serve to start serving."))
            return
        self._serve(addr)

    def _print_credentials(
        self, username: str, password: str | None, credentials_file: Path, addr: str
    ) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"FAIRlight at http://{addr}/"))
        self.stdout.write(f"  demo user:     {username}")
        if password is None:
            self.stdout.write(
                f"  demo password: changed since it was created "
                f"(reset it with: uv run manage.py changepassword {username})"
            )
        else:
            self.stdout.write(f"  demo password: {password}")
            self.stdout.write(f"  (also kept in {credentials_file})")
        self.stdout.write("")

    def _serve(self, addr: str) -> None:
        python = sys.executable
        children = [
            subprocess.Popen([python, str(MANAGE_PY), "worker", "--no-startup-delay"]),
            subprocess.Popen([python, str(MANAGE_PY), "runserver", "--noreload", addr]),
        ]

        def stop(signum: int, frame: FrameType | None) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        self.stdout.write("Serving with one task worker; press Ctrl-C to stop both.")
        failed = None
        try:
            while failed is None:
                time.sleep(0.5)
                failed = next((child for child in children if child.poll() is not None), None)
        except KeyboardInterrupt:
            self.stdout.write("Stopping …")
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
        if failed is not None:
            name = "The task worker" if failed is children[0] else "The web server"
            raise CommandError(f"{name} stopped with exit code {failed.returncode}; stopped the rest.")
