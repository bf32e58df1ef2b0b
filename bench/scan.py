"""Scan speed: FAIRlight's scanner against naive bioio and against raw tifffile + ome-types.

Generates N two-channel z-stack OME-TIFF files with tifffile, then times:
  (a) naive bioio: BioImage(path) (reader guessed per file) reading ome_metadata, dims,
      channel_names and physical_pixel_sizes;
  (b) raw tifffile + ome_types.from_xml, the floor for reading OME-TIFF headers in Python;
  (c) FAIRlight's scan end to end: listing, header extraction, SHA-256 of every file and the
      database rows, run in this process on a scratch SQLite database.
Targets: (c) at least 10x faster than (a), and within 1.5x of (b).

    uv run python bench/scan.py [--files 1000]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np
import tifffile
from _common import django_in_scratch, timed


def generate(folder: Path, count: int) -> None:
    rng = np.random.default_rng(0)
    stack = rng.integers(0, 4095, size=(5, 2, 128, 128), dtype=np.uint16)  # Z, C, Y, X
    for index in range(count):
        tifffile.imwrite(
            folder / f"cell_{index:05d}.ome.tif",
            stack,
            ome=True,
            metadata={
                "axes": "ZCYX",
                "PhysicalSizeX": 0.108,
                "PhysicalSizeY": 0.108,
                "PhysicalSizeZ": 0.5,
                "Channel": {"Name": ["DAPI", "GFP"]},
            },
        )


def naive_bioio(paths: list[Path]) -> None:
    from bioio import BioImage

    for path in paths:
        image = BioImage(path)
        _ = (image.ome_metadata, image.dims, image.channel_names, image.physical_pixel_sizes)


def raw_tifffile(paths: list[Path]) -> None:
    import ome_types

    for path in paths:
        with tifffile.TiffFile(path) as tif:
            ome_types.from_xml(tif.ome_metadata or "")


def fairlight_scan(storage: Path) -> None:
    from metadata.services import dataset_register, scan_run_inline, scan_start
    from projects.models import Facility, Project, StorageRoot

    facility = Facility.objects.create(name="Bench")
    root = StorageRoot.objects.create(facility=facility, name="bench", path=str(storage))
    project = Project.objects.create(title="Bench", facility=facility)
    dataset = dataset_register(
        project=project, user=None, storage_root=root, relative_path="data", title="Bench"
    )
    # Previews read pixels and are a separate background step; this measures the header scan.
    scan_run_inline(run=scan_start(dataset=dataset), previews=False)
    dataset.refresh_from_db()
    assert dataset.image_count == len(list((storage / "data").iterdir())), "the scan missed files"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()
    storage = Path(tempfile.mkdtemp(prefix="fairlight-bench-storage-"))
    scratch = django_in_scratch(storage)
    try:
        data = storage / "data"
        data.mkdir()
        print(f"scan benchmark: {args.files} OME-TIFF files (2 channels x 5 z, 128x128 uint16)")
        generate(data, args.files)
        paths = sorted(data.iterdir())
        warnings.simplefilter("ignore")
        raw_tifffile(paths[:20])  # warm the page cache and imports for every contender
        naive_bioio(paths[:5])
        naive = timed("(a) naive bioio BioImage(path)", lambda: naive_bioio(paths))
        raw = timed("(b) tifffile + ome_types.from_xml", lambda: raw_tifffile(paths))
        ours = timed("(c) FAIRlight scan (headers + SHA-256 + rows)", lambda: fairlight_scan(storage))
        print(f"  ratio (a)/(c): {naive / ours:6.1f}x faster than naive bioio   (target >= 10x)")
        print(f"  ratio (c)/(b): {ours / raw:6.2f}x the time of raw tifffile     (target <= 1.5x)")
    finally:
        shutil.rmtree(storage, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
