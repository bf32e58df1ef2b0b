"""Packaging time against checksum time: building a BioImage Archive package must cost less
than reading the data once more.

Generates N OME-TIFF files (2 channels x 16 z, 256x256 uint16, about 4 MiB each), scans them
and describes them with the REMBI schema's example records, then times:
  (a) SHA-256 of every file (FAIRlight's checksum code, one process), the cost a package would
      pay if it re-read the data;
  (b) the pre-flight check plus the BIA package (RO-Crate, file list, PageTab, manifest) built
      from the scan's records, as the package task does.
Target: (b) at most (a) — packages are written from metadata, never by copying or re-hashing.

    uv run python bench/package_build.py [--files 200]
"""

from __future__ import annotations

import argparse
import copy
import datetime
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import tifffile
from _common import django_in_scratch, timed

if TYPE_CHECKING:  # Django is configured at run time, before the models are imported
    from repositories.models import Submission


def generate(folder: Path, count: int) -> None:
    rng = np.random.default_rng(0)
    stack = rng.integers(0, 4095, size=(16, 2, 256, 256), dtype=np.uint16)  # Z, C, Y, X
    for index in range(count):
        tifffile.imwrite(
            folder / f"embryo_{index:04d}.ome.tif",
            stack,
            ome=True,
            metadata={"axes": "ZCYX", "PhysicalSizeX": 0.2, "PhysicalSizeY": 0.2, "PhysicalSizeZ": 1.0},
        )


def prepare(storage: Path) -> Submission:
    from django.utils import timezone

    from metadata.models import RembiRecord
    from metadata.services import dataset_register, scan_run_inline, scan_start
    from projects.models import Facility, Project, StorageRoot
    from repositories import services
    from tests.metadata.rembi_corpus import examples

    facility = Facility.objects.create(name="Bench")
    root = StorageRoot.objects.create(facility=facility, name="bench", path=str(storage))
    project = Project.objects.create(title="Bench", facility=facility)
    dataset = dataset_register(
        project=project, user=None, storage_root=root, relative_path="data", title="Bench"
    )
    scan_run_inline(run=scan_start(dataset=dataset), previews=False)
    release = timezone.now().date() + datetime.timedelta(days=90)
    for class_name in ("Study", "StudyComponent", "Biosample", "Specimen", "ImageAcquisition", "ImageData"):
        data = copy.deepcopy(examples()[class_name])
        if class_name == "Study":
            data["release_date"] = release.isoformat()
        record = RembiRecord.objects.create(
            project=project, class_name=class_name, title=data["title"], data=data
        )
        if class_name != "Study":
            record.datasets.add(dataset)
    return services.submission_create(
        project=project,
        datasets=[dataset],
        target="bia",
        title="Bench study",
        release_date=release,
        user=None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=200)
    args = parser.parse_args()
    storage = Path(tempfile.mkdtemp(prefix="fairlight-bench-storage-"))
    out = Path(tempfile.mkdtemp(prefix="fairlight-bench-package-"))
    django_in_scratch(storage)
    try:
        data = storage / "data"
        data.mkdir()
        generate(data, args.files)
        total = sum(path.stat().st_size for path in data.iterdir())
        print(f"packaging benchmark: {args.files} OME-TIFF files, {total / 2**20:,.0f} MiB")
        from metadata.imaging.checksum import hash_file
        from repositories import registry, services

        submission = prepare(storage)
        paths = sorted(data.iterdir())
        # A running server has imported its URL configuration (and every view) long before anyone
        # builds a package; do it here too, or the first reverse() would be timed.
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018 - imported for its side effect
        checksum = timed("(a) SHA-256 of every file", lambda: [hash_file(path) for path in paths])

        def package() -> None:
            report = services.submission_check(submission=submission, user=None)
            if not report.ok:
                raise SystemExit(f"pre-flight failed: {[f.message for f in report.errors]}")
            registry.target_for("bia").build_package(submission, out)

        built = timed("(b) pre-flight + BIA package", package)
        rows = len((out / "file_list.tsv").read_text().splitlines()) - 1
        if rows != args.files:
            raise SystemExit(f"the file list has {rows} rows for {args.files} files")
        print(f"  ratio (b)/(a): {built / checksum:6.2f}x the checksum time     (target <= 1x)")
    finally:
        shutil.rmtree(storage, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
