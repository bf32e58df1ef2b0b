from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from metadata.services import dataset_register
from projects.models import Project, StorageRoot


class Command(BaseCommand):
    help = "Register a folder on facility storage as a dataset of a project."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", type=int, required=True, help="Project id.")
        parser.add_argument("--root", required=True, help="Storage root name (see the Facility page).")
        parser.add_argument("--path", required=True, help="Folder relative to the storage root.")
        parser.add_argument("--title", required=True)
        parser.add_argument("--description", default="")
        parser.add_argument("--md5", action="store_true", help="Also compute MD5 checksums (for Zenodo).")

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(pk=options["project"]).first()
        if project is None:
            raise CommandError(f"There is no project {options['project']}.")
        root = StorageRoot.objects.filter(name=options["root"]).first()
        if root is None:
            names = ", ".join(StorageRoot.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"There is no storage root {options['root']!r} (known: {names}).")
        try:
            dataset = dataset_register(
                project=project,
                user=None,
                storage_root=root,
                relative_path=options["path"],
                title=options["title"],
                description=options["description"],
                want_md5=options["md5"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None  # each message names what is wrong
        self.stdout.write(
            f"Registered dataset {dataset.pk}: {dataset.title} ({root.name}/{dataset.relative_path})"
        )
