from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from accounts.models import User
from dmp.madmp_import import DEFAULT_TEMPLATE, check_size, madmp_read, plan_import_madmp
from projects.models import Facility


class Command(BaseCommand):
    help = (
        "Import an maDMP file (RDA DMP Common Standard 1.2, JSON) as a new project and plan owned by "
        "--owner; nothing is created if the file has a problem."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--owner", required=True, help="Username of the new project's owner.")
        parser.add_argument(
            "--template", default=DEFAULT_TEMPLATE, help=f"DMP template key (default: {DEFAULT_TEMPLATE})."
        )
        parser.add_argument("--facility", default="", help="Name of the facility that hosts the project.")

    def handle(
        self, *args: Any, file: Path, owner: str, template: str, facility: str, **options: Any
    ) -> None:
        user = User.objects.filter(username=owner).first()
        if user is None:
            raise CommandError(f"There is no user {owner!r}.")
        host = None
        if facility:
            host = Facility.objects.filter(name=facility).first()
            if host is None:
                raise CommandError(f"There is no facility named {facility!r}.")
        try:
            check_size(file.stat().st_size)
            document = madmp_read(file.read_bytes())
            plan = plan_import_madmp(document=document, user=user, template_key=template, facility=host)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from None
        except ValidationError as exc:
            raise CommandError(f"{file} was not imported: " + " ".join(exc.messages)) from None
        url = settings.FAIRLIGHT_BASE_URL.rstrip("/") + reverse("dmp:plan_detail", args=[plan.pk])
        self.stdout.write(f"Imported {file} as project {plan.project_id} and plan {plan.pk}: {url}")
