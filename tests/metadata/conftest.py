from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from fairlight.env import StorageRootSetting
from metadata import services
from metadata.models import Dataset, ScanRun
from projects.models import StorageRoot
from tests.conftest import World

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_data" / "images"
SHARED_IMAGES = REPO.parent / "shared" / "data" / "images"


@pytest.fixture
def samples(storage_root_dir: Path) -> Path:
    """A copy of the shipped sample images inside an allow-listed storage root."""
    target = storage_root_dir / "samples"
    shutil.copytree(SAMPLES, target)
    return target


def shared_images() -> Path:
    if not SHARED_IMAGES.is_dir():
        pytest.skip(
            f"{SHARED_IMAGES} is absent: the GPL-licensed samples are only in ../shared (CI has them)."
        )
    return SHARED_IMAGES


CaptureOnCommit = Callable[..., AbstractContextManager[object]]


@pytest.fixture
def root(world: World, storage_root_dir: Path) -> StorageRoot:
    return StorageRoot.objects.create(facility=world.facility, name="test", path=str(storage_root_dir))


@pytest.fixture
def dataset(world: World, root: StorageRoot, samples: Path) -> Dataset:
    return services.dataset_register(
        project=world.project,
        user=world.users["editor"],
        storage_root=root,
        relative_path="samples",
        title="S",
    )


@pytest.fixture
def scan_now(
    run_tasks: Callable[[], None], django_capture_on_commit_callbacks: CaptureOnCommit
) -> Callable[[Dataset], ScanRun]:
    """Start (or resume) a scan and run its tasks to the end, as workers would."""

    def run(dataset: Dataset) -> ScanRun:
        with django_capture_on_commit_callbacks(execute=True):
            scan_run = services.scan_start(dataset=dataset)
        # Tasks queue further tasks on commit; keep running until the queue is empty.
        for _ in range(5):
            with django_capture_on_commit_callbacks(execute=True):
                run_tasks()
        scan_run.refresh_from_db()
        return scan_run

    return run


@pytest.fixture
def shared_scanned(
    world: World, settings: SettingsWrapper, scan_now: Callable[[Dataset], ScanRun], ontologies: None
) -> Dataset:
    """../shared/data/images registered and scanned (the GPL samples included)."""
    images = shared_images()
    settings.FAIRLIGHT_STORAGE_ROOTS = (StorageRootSetting(name="shared", path=images.parent.resolve()),)
    root = StorageRoot.objects.create(
        facility=world.facility, name="shared", path=str(images.parent.resolve())
    )
    dataset = services.dataset_register(
        project=world.project, user=None, storage_root=root, relative_path=images.name, title="Shared"
    )
    scan_now(dataset)
    dataset.refresh_from_db()
    return dataset
