from __future__ import annotations

import io
from pathlib import Path

from django.core.management import call_command
from pytest_django.fixtures import Settings

from accounts.models import User
from dmp.answers import plan_progress
from dmp.models import Plan
from fairlight.env import StorageRootSetting
from metadata.models import Dataset, ImageFile
from projects.models import Facility, Membership, Project, StorageRoot, Team


def _quickstart() -> str:
    out = io.StringIO()
    call_command("quickstart", "--no-serve", stdout=out)
    return out.getvalue()


def _counts() -> tuple[int, ...]:
    models = (User, Facility, StorageRoot, Team, Project, Membership, Dataset, ImageFile)
    return tuple(model.objects.count() for model in models)


def test_quickstart_is_idempotent_and_prints_working_credentials(
    db: None, settings: Settings, tmp_path: Path, storage_root_dir: Path
) -> None:
    settings.VAR_DIR = tmp_path
    settings.FAIRLIGHT_STORAGE_ROOTS = (StorageRootSetting(name="demo", path=storage_root_dir),)
    first = _quickstart()
    counts = _counts()
    second = _quickstart()
    assert _counts() == counts == (1, 1, 1, 1, 1, 1, 1, 16)
    assert "Demo dataset: Sample images from the facility's instruments (19 files scanned)." in first
    plan = Plan.objects.get()
    assert plan.template.key == "bioimaging-facility"
    assert plan_progress(plan).answered >= 30  # a filled-in plan, as the demo promises
    password = next(line.split(":", 1)[1].strip() for line in first.splitlines() if "demo password" in line)
    assert f"demo password: {password}" in second
    assert User.objects.get(username="demo").check_password(password)
    assert StorageRoot.objects.get().path == str(storage_root_dir)


def test_quickstart_says_when_the_demo_password_was_changed(
    db: None, settings: Settings, tmp_path: Path, storage_root_dir: Path
) -> None:
    settings.VAR_DIR = tmp_path
    _quickstart()
    demo = User.objects.get(username="demo")
    demo.set_password("a-new-password-the-user-chose")
    demo.save()
    assert "changed since it was created" in _quickstart()
