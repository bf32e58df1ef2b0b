"""Paths on facility storage never escape their root: not by '..', absolute paths or symlinks."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from projects.models import Facility, StorageRoot
from projects.storage import PathOutsideRoot, resolve_within


@pytest.fixture
def root(tmp_path: Path) -> Path:
    base = tmp_path / "root"
    (base / "lab" / "2026-11-01_confocal").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (base / "escape").symlink_to(tmp_path / "outside")
    (base / "shortcut").symlink_to(base / "lab")
    return base


def test_resolves_a_folder_inside(root: Path) -> None:
    assert resolve_within(root, "lab/2026-11-01_confocal") == root.resolve() / "lab" / "2026-11-01_confocal"


def test_follows_symlinks_that_stay_inside(root: Path) -> None:
    assert resolve_within(root, "shortcut") == (root / "lab").resolve()


@pytest.mark.parametrize(
    ("relative", "message"),
    [
        ("../outside", "uses '..' to leave the storage root"),
        ("lab/../../outside", "uses '..' to leave the storage root"),
        ("/etc", "is an absolute path"),
        ("escape", "leads outside the storage root through a symbolic link"),
        ("escape/deeper", "leads outside the storage root through a symbolic link"),
        ("lab\x00/x", "NUL character"),
    ],
)
def test_refuses_paths_that_escape(root: Path, relative: str, message: str) -> None:
    with pytest.raises(PathOutsideRoot, match=message):
        resolve_within(root, relative)


@pytest.mark.django_db
def test_storage_root_must_lie_in_allow_list(storage_root_dir: Path, tmp_path: Path) -> None:
    facility = Facility.objects.create(name="Core")
    inside = storage_root_dir / "microscopy"
    inside.mkdir()
    StorageRoot(facility=facility, name="micro", path=str(inside)).full_clean()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.raises(ValidationError, match="not inside any folder of FAIRLIGHT_STORAGE_ROOTS"):
        StorageRoot(facility=facility, name="other", path=str(elsewhere)).full_clean()
    with pytest.raises(ValidationError, match="Give an absolute path"):
        StorageRoot(facility=facility, name="rel", path="relative/path").full_clean()
    with pytest.raises(ValidationError, match="is not an existing folder"):
        StorageRoot(facility=facility, name="gone", path=str(storage_root_dir / "missing")).full_clean()


@pytest.mark.django_db
def test_storage_root_resolve_rechecks_allow_list(storage_root_dir: Path, settings: object) -> None:
    facility = Facility.objects.create(name="Core")
    (storage_root_dir / "data").mkdir()
    root = StorageRoot.objects.create(facility=facility, name="test", path=str(storage_root_dir))
    assert root.resolve("data") == storage_root_dir / "data"
    with pytest.raises(PathOutsideRoot, match=r"uses '\.\.'"):
        root.resolve("../..")
    settings.FAIRLIGHT_STORAGE_ROOTS = ()  # type: ignore[attr-defined]
    with pytest.raises(PathOutsideRoot, match="no longer allowed by FAIRLIGHT_STORAGE_ROOTS"):
        root.resolve("data")
