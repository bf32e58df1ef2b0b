"""Registering a dataset and scanning it: totals, per-file errors, rescans, resumption, verify."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from metadata import services
from metadata.imaging import inspect_path
from metadata.imaging.checksum import Digests, hash_file
from metadata.models import Dataset, ImageFile, ScanChunk, ScanRun
from projects.models import StorageRoot
from tests.conftest import World

SAMPLE_UNITS = 16  # files and OME-Zarr folders in sample_data/images


def test_scan_gives_totals_and_per_file_errors(
    dataset: Dataset, scan_now: Callable[[Dataset], ScanRun]
) -> None:
    run = scan_now(dataset)
    dataset.refresh_from_db()
    assert run.status == ScanRun.Status.SUCCEEDED
    assert (run.files_total, run.files_done, run.files_failed) == (SAMPLE_UNITS, SAMPLE_UNITS, 1)
    assert dataset.status == Dataset.Status.SCANNED
    assert dataset.files.count() == SAMPLE_UNITS
    assert dataset.file_count == SAMPLE_UNITS + 3  # the OME-Zarr folder holds 4 files
    assert dataset.total_bytes == sum(
        f.stat().st_size for f in Path(services.dataset_folder(dataset)).rglob("*") if f.is_file()
    )
    assert dataset.error_count == 1
    broken = dataset.files.get(relative_path="broken/pillow_truncated_image.png")
    assert (broken.format, broken.error_code, broken.sha256 != "") == ("png", "truncated", True)
    assert "cut off while copying" in broken.error
    nd2 = dataset.files.get(relative_path="nd2/cluster.nd2")
    assert nd2.metadata["channels"][1]["name"] == "FM 4-64/2% CHAPS"
    assert len(nd2.sha256) == 64
    assert dataset.format_summary["ome-tiff"]["count"] == 8
    swatch = dataset.files.get(relative_path="ome-tiff/6x4y1z1t1c8b-swatch-instrument.ome.tiff")
    assert swatch.ome_xml is not None
    assert dataset.instruments == ["OME Insturuments Lab Mk3"]  # listed once, though two files name it


def test_rescan_rehashes_nothing_unchanged(
    dataset: Dataset, scan_now: Callable[[Dataset], ScanRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    scan_now(dataset)
    folder = services.dataset_folder(dataset)
    (folder / "png-jpeg/skimage_cell.png").write_bytes(
        (folder / "png-jpeg/skimage_cell.png").read_bytes() + b"x"
    )
    hashed: list[str] = []

    def counting_hash(path: Path, **options: bool) -> Digests:
        hashed.append(path.name)
        return hash_file(path, **options)

    monkeypatch.setattr(services, "hash_file", counting_hash)
    second = scan_now(dataset)
    assert hashed == ["skimage_cell.png"]
    assert second.files_skipped == SAMPLE_UNITS - 1
    assert dataset.files.count() == SAMPLE_UNITS


def test_deleted_files_disappear_and_new_ones_appear(
    dataset: Dataset, scan_now: Callable[[Dataset], ScanRun]
) -> None:
    scan_now(dataset)
    folder = services.dataset_folder(dataset)
    (folder / "png-jpeg/skimage_retina.jpg").unlink()
    (folder / "notes.txt").write_text("acquisition notes")
    scan_now(dataset)
    paths = set(dataset.files.values_list("relative_path", flat=True))
    assert "png-jpeg/skimage_retina.jpg" not in paths
    assert ImageFile.objects.get(dataset=dataset, relative_path="notes.txt").format == "other"


def test_worker_killed_mid_chunk_resumes_without_duplicates(
    dataset: Dataset,
    scan_now: Callable[[Dataset], ScanRun],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Must show: a worker dying mid-scan, then running the scan again, gives one row per file."""
    monkeypatch.setattr(services, "FLUSH_UNITS", 3)  # rows reach the database before the "crash"
    real_inspect = inspect_path
    calls = {"n": 0}

    def dies_on_the_seventh(path: Path) -> object:
        calls["n"] += 1
        if calls["n"] == 7:
            raise SystemExit("worker killed")  # BaseException: nothing in our code catches it
        return real_inspect(path)

    monkeypatch.setattr(services, "inspect_path", dies_on_the_seventh)
    interrupted = scan_now(dataset)
    assert interrupted.status == ScanRun.Status.RUNNING
    assert ScanChunk.objects.get(scan=interrupted).status == ScanChunk.Status.RUNNING
    assert 0 < dataset.files.count() < SAMPLE_UNITS

    monkeypatch.setattr(services, "inspect_path", real_inspect)
    resumed = scan_now(dataset)
    assert resumed.pk == interrupted.pk
    assert resumed.status == ScanRun.Status.SUCCEEDED
    assert dataset.files.count() == SAMPLE_UNITS
    assert dataset.files.values("relative_path").distinct().count() == SAMPLE_UNITS


def test_chunks_of_a_live_worker_are_not_taken(dataset: Dataset, run_tasks: Callable[[], None]) -> None:
    from workers.heartbeat import Heartbeat

    run = services.scan_start(dataset=dataset)
    services.scan_plan(run=run)
    chunk = ScanChunk.objects.get(scan=run)
    heartbeat = Heartbeat(worker_id="busy-worker", backend="default", queues="default")
    ScanChunk.objects.filter(pk=chunk.pk).update(status=ScanChunk.Status.RUNNING, worker="busy-worker")
    assert services.scan_chunk(chunk_id=chunk.pk, worker="other") is False
    heartbeat.stop()  # the busy worker is gone: its chunk may now be taken over
    assert services.scan_chunk(chunk_id=chunk.pk, worker="other") is True


def test_chunks_split_large_datasets(monkeypatch: pytest.MonkeyPatch, dataset: Dataset) -> None:
    monkeypatch.setattr(services, "CHUNK_UNITS", 5)
    run = services.scan_start(dataset=dataset)
    services.scan_plan(run=run)
    assert ScanChunk.objects.filter(scan=run).count() == 4  # 16 units in chunks of 5


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../", "uses '..'"),
        ("/etc", "is an absolute path"),
        ("escape", "through a symbolic link"),
        ("missing-folder", "There is no folder"),
    ],
)
def test_register_refuses_paths_outside_the_root(
    world: World, root: StorageRoot, storage_root_dir: Path, tmp_path: Path, path: str, message: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (storage_root_dir / "escape").symlink_to(outside)
    with pytest.raises(ValidationError, match=message):
        services.dataset_register(
            project=world.project, user=None, storage_root=root, relative_path=path, title="x"
        )


def test_register_refuses_a_folder_twice(dataset: Dataset, world: World, root: StorageRoot) -> None:
    with pytest.raises(ValidationError, match="already registered"):
        services.dataset_register(
            project=world.project, user=None, storage_root=root, relative_path="samples/", title="y"
        )


def test_symlink_inside_dataset_pointing_out_is_reported(
    dataset: Dataset, tmp_path: Path, scan_now: Callable[[Dataset], ScanRun]
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not yours")
    os.symlink(secret, services.dataset_folder(dataset) / "link.txt")
    scan_now(dataset)
    row = dataset.files.get(relative_path="link.txt")
    assert row.error_code == "unreadable"
    assert "outside the dataset folder" in row.error
    assert row.sha256 == ""


def register_cli(project_id: int, root: str, path: str, title: str) -> str:
    out = io.StringIO()
    call_command(
        "dataset_register",
        "--project",
        str(project_id),
        "--root",
        root,
        "--path",
        path,
        "--title",
        title,
        stdout=out,
    )
    return out.getvalue()


def test_cli_register_scan_verify(world: World, root: StorageRoot, samples: Path) -> None:
    assert "Registered dataset" in register_cli(world.project.pk, "test", "samples", "CLI")
    out = io.StringIO()
    dataset = Dataset.objects.get(title="CLI")
    call_command("dataset_scan", str(dataset.pk), "--here", stdout=out)
    assert "Scan finished: 16 files, 0 unchanged, 1 with errors." in out.getvalue()
    assert "100.0%" in out.getvalue()

    verified = io.StringIO()
    call_command("dataset_verify", str(dataset.pk), stdout=verified)
    assert "16 files re-hashed: 0 changed, 0 missing, 0 new. The copy is intact." in verified.getvalue()

    (samples / "nd2/cluster.nd2").write_bytes(b"changed")
    (samples / "png-jpeg/skimage_cell.png").unlink()
    (samples / "extra.txt").write_text("new")
    report = io.StringIO()
    with pytest.raises(CommandError, match="1 changed, 1 missing, 1 new"):
        call_command("dataset_verify", str(dataset.pk), stdout=report)
    lines = report.getvalue().splitlines()
    assert "CHANGED  nd2/cluster.nd2" in lines
    assert "MISSING  png-jpeg/skimage_cell.png" in lines
    assert "NEW  extra.txt" in lines


def test_cli_register_errors_are_clear(world: World, root: StorageRoot) -> None:
    with pytest.raises(CommandError, match=r"uses '\.\.'"):
        register_cli(world.project.pk, "test", "..", "x")
    with pytest.raises(CommandError, match="no storage root 'nope'"):
        register_cli(world.project.pk, "nope", "x", "x")


def test_shared_sample_images_scan_completely(
    shared_scanned: Dataset, scan_now: Callable[[Dataset], ScanRun]
) -> None:
    """Must show: ../shared/data/images scans to completion with correct totals and one
    per-file error, and a second scan re-hashes nothing."""
    dataset = shared_scanned
    images = services.dataset_folder(dataset)
    on_disk = [path for path in images.rglob("*") if path.is_file()]
    assert dataset.scans.get().status == ScanRun.Status.SUCCEEDED
    assert dataset.file_count == len(on_disk)
    assert dataset.total_bytes == sum(path.stat().st_size for path in on_disk)
    assert list(dataset.files.exclude(error_code="").values_list("relative_path", flat=True)) == [
        "broken/pillow_truncated_image.png"
    ]
    assert dataset.format_summary["czi"]["count"] == 6
    second = scan_now(dataset)
    assert second.files_skipped == second.files_total
