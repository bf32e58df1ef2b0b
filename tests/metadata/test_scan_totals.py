"""The dataset's totals are kept by difference as rows are written and deleted; after any
sequence of scans, changes, crashes and repeated chunks they equal a count of all rows."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Count, Q, Sum

from metadata import services
from metadata.imaging import inspect_path
from metadata.models import Dataset, ScanChunk, ScanRun


def _counted(dataset: Dataset) -> dict[str, Any]:
    files = dataset.files.order_by()
    totals = files.aggregate(
        files=Sum("file_count"),
        bytes=Sum("size_bytes"),
        images=Count("pk", filter=Q(is_image=True)),
        errors=Count("pk", filter=~Q(error_code="")),
    )
    formats = {
        row["format"]: {"count": row["count"], "bytes": row["bytes"]}
        for row in files.values("format").annotate(count=Count("pk"), bytes=Sum("size_bytes"))
    }
    months: dict[str, int] = {}
    for mtime, size in files.values_list("mtime", "size_bytes"):
        month = datetime.datetime.fromtimestamp(mtime, datetime.UTC).strftime("%Y-%m")
        months[month] = months.get(month, 0) + size
    return {
        "file_count": totals["files"] or 0,
        "total_bytes": totals["bytes"] or 0,
        "image_count": totals["images"],
        "error_count": totals["errors"],
        "format_summary": formats,
        "monthly_bytes": {month: size for month, size in months.items() if size},
    }


def _stored(dataset: Dataset) -> dict[str, Any]:
    dataset.refresh_from_db()
    return {key: getattr(dataset, key) for key in _counted(dataset)}


def test_totals_follow_changes_deletions_and_additions(
    dataset: Dataset, scan_now: Callable[[Dataset], ScanRun]
) -> None:
    scan_now(dataset)
    first = _stored(dataset)
    assert first == _counted(dataset)
    assert first["file_count"] == 19
    assert first["error_count"] == 1

    folder = services.dataset_folder(dataset)
    retina = folder / "png-jpeg/skimage_retina.jpg"
    retina_size = retina.stat().st_size
    retina.unlink()
    cell = folder / "png-jpeg/skimage_cell.png"
    cell.write_bytes(cell.read_bytes()[:200])  # now truncated: an error, and smaller
    (folder / "notes.txt").write_text("acquisition notes")
    scan_now(dataset)
    second = _stored(dataset)
    assert second == _counted(dataset)
    assert second["error_count"] == 2
    assert second["format_summary"]["other"]["count"] >= 1
    assert second["total_bytes"] < first["total_bytes"] - retina_size + 1000


def test_totals_stay_right_through_a_crash_and_the_resume(
    dataset: Dataset, scan_now: Callable[[Dataset], ScanRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "FLUSH_UNITS", 3)
    real_inspect = inspect_path
    calls = {"n": 0}

    def dies_on_the_tenth(path: Path) -> object:
        calls["n"] += 1
        if calls["n"] == 10:
            raise SystemExit("worker killed")
        return real_inspect(path)

    monkeypatch.setattr(services, "inspect_path", dies_on_the_tenth)
    interrupted = scan_now(dataset)
    assert interrupted.status == ScanRun.Status.RUNNING
    partial = _stored(dataset)
    assert 0 < partial["file_count"] < 19
    assert partial == _counted(dataset), "totals count exactly the rows written before the crash"

    monkeypatch.setattr(services, "inspect_path", real_inspect)
    scan_now(dataset)
    assert _stored(dataset) == _counted(dataset)
    assert dataset.file_count == 19


def test_a_chunk_run_twice_counts_each_file_once(
    dataset: Dataset, scan_now: Callable[[Dataset], ScanRun]
) -> None:
    """As when a worker was wrongly given up for dead and its chunk ran again elsewhere."""
    run = scan_now(dataset)
    before = _stored(dataset)
    Dataset.objects.filter(pk=dataset.pk).update(want_md5=True)  # every file is read again
    chunk = ScanChunk.objects.get(scan=run)
    ScanChunk.objects.filter(pk=chunk.pk).update(status=ScanChunk.Status.PENDING)
    assert services.scan_chunk(chunk_id=chunk.pk, worker="second-worker") is True
    assert _stored(dataset) == before == _counted(dataset)
    # Every single file was read again (OME-Zarr folders get no MD5: no archive asks for one).
    assert not dataset.files.filter(md5="", error_code="").exclude(relative_path__endswith=".zarr").exists()


def test_an_emptied_folder_leaves_zero_totals(
    dataset: Dataset, scan_now: Callable[[Dataset], ScanRun]
) -> None:
    scan_now(dataset)
    folder = services.dataset_folder(dataset)
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file():
            path.unlink()
        else:
            path.rmdir()
    scan_now(dataset)
    assert _stored(dataset) == {
        "file_count": 0,
        "total_bytes": 0,
        "image_count": 0,
        "error_count": 0,
        "format_summary": {},
        "monthly_bytes": {},
    }
