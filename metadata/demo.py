"""The demo dataset: the shipped sample images, copied into the demo storage root and scanned."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.conf import settings

from accounts.models import User
from metadata.models import Dataset
from metadata.services import dataset_register, scan_run_inline, scan_start
from projects.models import Project, StorageRoot

SAMPLE_IMAGES = Path(settings.BASE_DIR) / "sample_data" / "images"
DEMO_ROOT_NAME = "demo"
DEMO_FOLDER = "sample-images"


def demo_dataset_ensure(*, project: Project, user: User) -> Dataset | None:
    """Register and scan the sample images once; None when there is no demo storage root.

    Only the root named "demo" (the embedded default's own folder) receives the copy:
    FAIRlight never writes into storage roots that hold a facility's real data.
    """
    root = StorageRoot.objects.filter(name=DEMO_ROOT_NAME).first()
    if root is None:
        return None
    existing = Dataset.objects.filter(storage_root=root, relative_path=DEMO_FOLDER).first()
    if existing is not None:
        return existing
    shutil.copytree(SAMPLE_IMAGES, Path(root.path) / DEMO_FOLDER, dirs_exist_ok=True)
    dataset = dataset_register(
        project=project,
        user=user,
        storage_root=root,
        relative_path=DEMO_FOLDER,
        title="Sample images from the facility's instruments",
        description="OME-TIFF, ND2, OME-Zarr, OME-XML, PNG and JPEG samples; one was cut off while copying.",
    )
    scan_run_inline(run=scan_start(dataset=dataset, user=user))
    dataset.refresh_from_db()
    return dataset
