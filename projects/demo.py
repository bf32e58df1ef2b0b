"""Demo data for the embedded default: a facility, a team, a user and a project.

Idempotent: running it again finds what exists and creates only what is missing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from accounts.models import User
from projects.models import Facility, Membership, Project, Role, StorageRoot, Team

DEMO_USERNAME = "demo"

DATA_HANDLING_POLICY = """\
Raw data stays in the vendor format it was acquired in (CZI, LIF, ND2, OME-TIFF) on the facility \
storage; convert to OME-TIFF or OME-Zarr for sharing, never overwrite the original.
Name folders <date>_<instrument>_<sample> and keep one dataset per folder.
Data leave the facility network only through the repositories named in your DMP or the facility's \
transfer service; personal data (patient material) must be pseudonymised before acquisition."""

RETENTION_POLICY = """\
Raw data are kept on the primary storage for 12 months after acquisition, then moved to the tape \
archive for 10 years, as the funders' and the institute's rules require.
Data of archived projects are deleted from the primary storage 90 days after archiving, once a \
verified copy exists in the archive or a public repository."""


@dataclass(frozen=True)
class DemoResult:
    user: User
    password: str | None
    project: Project
    created: bool


def storage_roots_sync(*, facility: Facility) -> list[StorageRoot]:
    """Register every FAIRLIGHT_STORAGE_ROOTS entry that no StorageRoot names yet."""
    roots = []
    for configured in settings.FAIRLIGHT_STORAGE_ROOTS:
        root, _ = StorageRoot.objects.get_or_create(
            name=configured.name,
            defaults={
                "facility": facility,
                "path": str(configured.path),
                "description": "Registered from FAIRLIGHT_STORAGE_ROOTS.",
            },
        )
        roots.append(root)
    return roots


def _stored_password(credentials_file: Path, user: User) -> str | None:
    """The demo password written at creation, if the user has not changed it since."""
    try:
        password = credentials_file.read_text().strip()
    except OSError:
        return None
    return password if user.check_password(password) else None


# Prices of the order core facilities charge in 2026; the DMP cost estimator offers them.
DEMO_STORAGE_TIERS = [
    {"name": "Online (replicated disk)", "price_per_tb_year": 150, "currency": "EUR"},
    {"name": "Nearline (object storage)", "price_per_tb_year": 60, "currency": "EUR"},
    {"name": "Archive (tape, two copies)", "price_per_tb_year": 15, "currency": "EUR"},
]


@transaction.atomic
def demo_ensure(*, credentials_file: Path) -> DemoResult:
    facility, _ = Facility.objects.get_or_create(
        name="Demo Imaging Facility",
        defaults={
            "description": "Light and electron microscopy core facility (demo).",
            "data_handling_policy": DATA_HANDLING_POLICY,
            "retention_policy": RETENTION_POLICY,
            "contact_email": "imaging-facility@example.org",
            "storage_tiers": DEMO_STORAGE_TIERS,
        },
    )
    if not facility.storage_tiers:  # a demo database from before the estimator existed
        facility.storage_tiers = DEMO_STORAGE_TIERS
        facility.save(update_fields=["storage_tiers"])
    storage_roots_sync(facility=facility)
    team, _ = Team.objects.get_or_create(
        name="Demo Lab", defaults={"description": "Neurobiology group (demo).", "facility": facility}
    )
    user = User.objects.filter(username=DEMO_USERNAME).first()
    created = user is None
    password: str | None
    if user is None:
        password = secrets.token_urlsafe(12)
        user = User.objects.create_user(
            username=DEMO_USERNAME,
            password=password,
            email="demo@example.org",
            first_name="Josiah",
            last_name="Carberry",
            orcid="0000-0002-1825-0097",
            affiliation="European Molecular Biology Laboratory",
            ror_id="03mstc592",
            is_staff=True,
        )
        credentials_file.parent.mkdir(parents=True, exist_ok=True)
        credentials_file.write_text(password + "\n")
        credentials_file.chmod(0o600)
    else:
        password = _stored_password(credentials_file, user)
    team.members.add(user)
    # The demo user also stewards the demo facility, so one login shows both sides of a plan
    # review: asking for feedback and giving it from the review queue.
    facility.stewards.add(user)
    project, _ = Project.objects.get_or_create(
        acronym="MitoZ",
        defaults={
            "title": "Mitochondrial dynamics in zebrafish neurons",
            "description": "Live imaging of mitochondrial transport in zebrafish sensory neurons.",
            "funder": "European Commission (Horizon Europe)",
            "grant_id": "101012345",
            "team": team,
            "facility": facility,
            "time_zone": "Europe/Berlin",
        },
    )
    Membership.objects.get_or_create(project=project, user=user, defaults={"role": Role.OWNER})
    return DemoResult(user=user, password=password, project=project, created=created)
