"""Registering datasets and scanning them: header metadata and checksums, in chunks.

A scan lists the folder into units (files, OME-Zarr folders), splits them into
chunks and queues one task per chunk, so several workers can share a dataset.
Rows are upserted by path, and a chunk whose worker stopped beating is handed
to the next worker, so a scan interrupted at any point finishes without
duplicates or losses when it is run again.
"""

from __future__ import annotations

import datetime
import os
import socket
import time
import zlib
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from metadata.imaging import InspectionError, ScanUnit, inspect_path, walk_units
from metadata.imaging.checksum import hash_file, hash_tree
from metadata.imaging.errors import ErrorCode
from metadata.imaging.formats import Format
from metadata.imaging.preview import PreviewError, render_preview
from metadata.imaging.units import tree_totals
from metadata.models import Dataset, ImageFile, ScanChunk, ScanRun
from projects.models import Project, StorageRoot
from projects.storage import PathOutsideRoot
from workers.heartbeat import Heartbeat
from workers.models import LOST_AFTER, WorkerHeartbeat

# A chunk holds at most this many units or bytes: small enough to spread a dataset
# over workers and lose little work when one dies, large enough to keep overhead low.
CHUNK_UNITS = 200
CHUNK_BYTES = 16 * 1024**3
# Rows and progress are written at least this often while a chunk runs.
FLUSH_SECONDS = 1.0
FLUSH_UNITS = 50


def storage_roots_for(project: Project) -> QuerySet[StorageRoot]:
    """The storage roots a project may register datasets under: its facility's, if it has one."""
    roots = StorageRoot.objects.all()
    return roots.filter(facility=project.facility_id) if project.facility_id else roots


def dataset_register(
    *,
    project: Project,
    user: User | None,
    storage_root: StorageRoot,
    relative_path: str,
    title: str,
    description: str = "",
    want_md5: bool = False,
) -> Dataset:
    """Register a folder as a dataset; raises ValidationError with a message per field."""
    if not storage_roots_for(project).filter(pk=storage_root.pk).exists():
        raise ValidationError({"storage_root": f"{storage_root} is not storage of this project's facility."})
    try:
        folder = storage_root.resolve(relative_path)
    except PathOutsideRoot as exc:
        raise ValidationError({"relative_path": str(exc)}) from None
    if not folder.is_dir():
        raise ValidationError({"relative_path": f"There is no folder {relative_path!r} in {storage_root}."})
    normalized = folder.relative_to(Path(storage_root.path).resolve()).as_posix()
    existing = Dataset.objects.filter(storage_root=storage_root, relative_path=normalized).first()
    if existing is not None:
        raise ValidationError(
            {"relative_path": f"This folder is already registered as dataset “{existing}”."}
        )
    dataset = Dataset(
        project=project,
        title=title,
        description=description,
        storage_root=storage_root,
        relative_path=normalized,
        want_md5=want_md5,
        created_by=user,
    )
    dataset.full_clean()
    dataset.save()
    return dataset


def scan_run_inline(*, run: ScanRun, previews: bool = True) -> None:
    """Run a whole scan in this process (CLI, demo), beating like a worker so that a
    concurrent resume does not take its chunks away; then the previews, unless told not to."""
    heartbeat = Heartbeat(
        worker_id=f"inline-{socket.gethostname()}-{os.getpid()}", backend="inline", queues="-"
    )
    heartbeat.start()
    try:
        run.refresh_from_db()
        scan_plan(run=run)
        pending = ScanChunk.objects.filter(scan=run).exclude(status=ScanChunk.Status.DONE)
        for chunk_id in pending.values_list("pk", flat=True):
            scan_chunk(chunk_id=chunk_id, worker=heartbeat.worker_id)
            heartbeat.task_done()
        if previews:
            waiting = run.dataset.files.filter(is_image=True, error_code="", preview_at__isnull=True)
            previews_render(file_ids=list(waiting.values_list("pk", flat=True)))
    finally:
        heartbeat.stop()


def dataset_folder(dataset: Dataset) -> Path:
    return dataset.storage_root.resolve(dataset.relative_path)


def scan_start(*, dataset: Dataset, user: User | None = None) -> ScanRun:
    """Start a scan, or resume the one that is still unfinished."""
    from metadata.tasks import scan_plan_task

    with transaction.atomic():
        locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
        active = locked.scans.filter(status__in=[ScanRun.Status.PLANNING, ScanRun.Status.RUNNING]).first()
        if active is not None:
            scan_resume(run=active)
            return active
        run = ScanRun.objects.create(dataset=locked, started_by=user)
        Dataset.objects.filter(pk=dataset.pk).update(status=Dataset.Status.SCANNING)
        transaction.on_commit(lambda: scan_plan_task.enqueue(scan_id=run.pk))
    return run


def scan_resume(*, run: ScanRun) -> int:
    """Queue again what an interrupted run has left; returns the number of tasks queued."""
    from metadata.tasks import scan_chunk_task, scan_plan_task

    if run.status == ScanRun.Status.PLANNING:
        transaction.on_commit(lambda: scan_plan_task.enqueue(scan_id=run.pk))
        return 1
    chunk_ids = list(_claimable(run.chunks.all()).values_list("pk", flat=True))
    for chunk_id in chunk_ids:
        transaction.on_commit(partial(scan_chunk_task.enqueue, chunk_id=chunk_id))
    if not run.chunks.exclude(status=ScanChunk.Status.DONE).exists():
        scan_finish(run=run)
    return len(chunk_ids)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, but belongs to another user
        return True
    return True


def _alive_workers() -> list[str]:
    """Workers that beat recently; on this host, only those whose process still exists,
    so a worker killed here frees its chunks at once rather than after LOST_AFTER."""
    here = socket.gethostname()
    recent = WorkerHeartbeat.objects.filter(last_seen_at__gte=timezone.now() - LOST_AFTER)
    return [
        worker_id
        for worker_id, hostname, pid in recent.values_list("worker_id", "hostname", "pid")
        if hostname != here or _process_exists(pid)
    ]


def _claimable(chunks: Any) -> Any:
    """Pending chunks, and running chunks whose worker has stopped beating."""
    return chunks.filter(
        Q(status=ScanChunk.Status.PENDING)
        | (Q(status=ScanChunk.Status.RUNNING) & ~Q(worker__in=_alive_workers()))
    )


def _split(units: list[ScanUnit]) -> list[list[str]]:
    chunks: list[list[str]] = []
    current: list[str] = []
    current_bytes = 0
    for unit in units:
        if current and (len(current) >= CHUNK_UNITS or current_bytes + unit.size_bytes > CHUNK_BYTES):
            chunks.append(current)
            current, current_bytes = [], 0
        current.append(unit.relative_path)
        current_bytes += unit.size_bytes
    if current:
        chunks.append(current)
    return chunks


def scan_plan(*, run: ScanRun) -> None:
    """List the folder, forget files that are gone, and queue the chunks."""
    from metadata.tasks import scan_chunk_task

    if run.status != ScanRun.Status.PLANNING:
        return
    dataset = run.dataset
    try:
        folder = dataset_folder(dataset)
        if not folder.is_dir():
            raise PathOutsideRoot(
                f"The folder {dataset.relative_path!r} no longer exists in {dataset.storage_root}."
            )
        units = list(walk_units(folder))
    except (PathOutsideRoot, OSError) as exc:
        _fail(run, str(exc))
        return
    present = {unit.relative_path for unit in units}
    gone = [pk for pk, path in dataset.files.values_list("pk", "relative_path") if path not in present]
    for start in range(0, len(gone), 1000):
        ImageFile.objects.filter(pk__in=gone[start : start + 1000]).delete()
    groups = _split(units)
    with transaction.atomic():
        ScanChunk.objects.filter(scan=run).delete()  # a re-planned run starts its chunks afresh
        chunks = ScanChunk.objects.bulk_create(
            ScanChunk(scan=run, index=index, paths=paths) for index, paths in enumerate(groups)
        )
        ScanRun.objects.filter(pk=run.pk).update(
            status=ScanRun.Status.RUNNING,
            files_total=len(units),
            bytes_total=sum(unit.size_bytes for unit in units),
            chunks_total=len(chunks),
        )
        chunk_ids = list(ScanChunk.objects.filter(scan=run).values_list("pk", flat=True))
        for chunk_id in chunk_ids:
            transaction.on_commit(partial(scan_chunk_task.enqueue, chunk_id=chunk_id))
    if not units:
        run.refresh_from_db()
        scan_finish(run=run)


def _fail(run: ScanRun, message: str) -> None:
    ScanRun.objects.filter(pk=run.pk).update(
        status=ScanRun.Status.FAILED, message=message, finished_at=timezone.now()
    )
    Dataset.objects.filter(pk=run.dataset_id).update(status=Dataset.Status.FAILED)


@dataclass
class _Progress:
    files: int = 0
    bytes: int = 0
    skipped: int = 0
    failed: int = 0

    def flush(self, run_id: int) -> None:
        if self.files:
            ScanRun.objects.filter(pk=run_id).update(
                files_done=F("files_done") + self.files,
                bytes_done=F("bytes_done") + self.bytes,
                files_skipped=F("files_skipped") + self.skipped,
                files_failed=F("files_failed") + self.failed,
            )
        self.files = self.bytes = self.skipped = self.failed = 0


_UPDATE_FIELDS = [
    # A changed file loses its old preview; the preview step makes a new one.
    "preview_png",
    "preview_error",
    "preview_at",
    "size_bytes",
    "mtime",
    "file_count",
    "format",
    "is_image",
    "reader",
    "sha256",
    "md5",
    "metadata",
    "instrument",
    "objective",
    "acquired_at",
    "ome_xml_gz",
    "error_code",
    "error",
    "scanned_at",
]


def _save_rows(rows: list[ImageFile]) -> None:
    if rows:
        ImageFile.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["dataset", "relative_path"],
            update_fields=_UPDATE_FIELDS,
        )
        rows.clear()


def scan_chunk(*, chunk_id: int, worker: str) -> bool:
    """Claim and run one chunk; False when another worker has it or it is done."""
    claimed = _claimable(ScanChunk.objects.filter(pk=chunk_id)).update(
        status=ScanChunk.Status.RUNNING, worker=worker, claimed_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    chunk = ScanChunk.objects.select_related("scan__dataset__storage_root").get(pk=chunk_id)
    run = chunk.scan
    dataset = run.dataset
    folder = dataset_folder(dataset)
    known = {
        row.relative_path: row
        for row in dataset.files.filter(relative_path__in=chunk.paths).only(
            "relative_path", "size_bytes", "mtime", "sha256", "md5", "error_code"
        )
    }
    progress = _Progress()
    rows: list[ImageFile] = []
    last_flush = time.monotonic()
    for relative in chunk.paths:
        row = _scan_unit(dataset, folder, relative, known.get(relative))
        progress.files += 1
        if row is None:
            progress.skipped += 1
            progress.bytes += known[relative].size_bytes
        else:
            rows.append(row)
            progress.bytes += row.size_bytes
            progress.failed += bool(row.error_code)
        if len(rows) >= FLUSH_UNITS or time.monotonic() - last_flush > FLUSH_SECONDS:
            with transaction.atomic():
                _save_rows(rows)
                progress.flush(run.pk)
            last_flush = time.monotonic()
    with transaction.atomic():
        _save_rows(rows)
        progress.flush(run.pk)
        ScanChunk.objects.filter(pk=chunk_id).update(status=ScanChunk.Status.DONE, finished_at=timezone.now())
    if not run.chunks.exclude(status=ScanChunk.Status.DONE).exists():
        scan_finish(run=run)
    return True


def _unchanged(previous: ImageFile | None, size: int, mtime: float, want_md5: bool) -> bool:
    return (
        previous is not None
        and previous.size_bytes == size
        and previous.mtime == mtime
        and bool(previous.sha256)
        and (previous.md5 != "" or not want_md5)
        # A reader installed since the last scan may now read what it could not.
        and previous.error_code != ErrorCode.READER_NOT_INSTALLED
    )


def _scan_unit(dataset: Dataset, folder: Path, relative: str, previous: ImageFile | None) -> ImageFile | None:
    """A fresh row for one unit, or None when it is unchanged since the last scan."""
    path = folder / relative
    now = timezone.now()
    row = ImageFile(dataset=dataset, relative_path=relative, scanned_at=now, size_bytes=0, mtime=0.0)
    try:
        if path.is_symlink() and not path.resolve().is_relative_to(folder):
            raise InspectionError(
                ErrorCode.UNREADABLE,
                "This is a symbolic link to a file outside the dataset folder; it was not read.",
            )
        stat = path.stat()
    except InspectionError as exc:
        return _with_error(row, exc)
    except FileNotFoundError:
        return _with_error(row, InspectionError(ErrorCode.VANISHED, "The file disappeared during the scan."))
    except OSError as exc:
        return _with_error(
            row, InspectionError(ErrorCode.UNREADABLE, f"The file could not be read: {exc.strerror}.")
        )
    if path.is_dir():
        size, mtime, _ = tree_totals(path)
    else:
        size, mtime = stat.st_size, stat.st_mtime
    if _unchanged(previous, size, mtime, dataset.want_md5):
        return None
    row.size_bytes, row.mtime = size, mtime
    try:
        record = inspect_path(path)
    except InspectionError as exc:
        row.format = exc.format or Format.OTHER
        _with_error(row, exc)
    else:
        row.format = record.format
        row.is_image = record.is_image
        row.reader = record.reader[:100]
        row.file_count = record.file_count
        row.metadata = record.to_json()
        row.instrument = (record.instrument_label or "")[:300]
        row.objective = (record.objective_label or "")[:300]
        row.acquired_at = parse_datetime(record.acquired_at) if record.acquired_at else None
        if row.acquired_at is not None and timezone.is_naive(row.acquired_at):
            row.acquired_at = timezone.make_aware(row.acquired_at, datetime.UTC)
        row.ome_xml_gz = zlib.compress(record.ome_xml.encode(), 6) if record.ome_xml else None
    try:
        if path.is_dir():
            digests, _manifest = hash_tree(path)
        else:
            digests = hash_file(path, md5=dataset.want_md5)
    except OSError as exc:
        return _with_error(
            row, InspectionError(ErrorCode.UNREADABLE, f"Checksum failed: {exc.strerror or exc}.")
        )
    row.sha256 = digests.sha256
    row.md5 = digests.md5 or ""
    return row


def _with_error(row: ImageFile, exc: InspectionError) -> ImageFile:
    row.format = row.format or Format.OTHER
    row.error_code = exc.code
    row.error = exc.message
    return row


PREVIEW_BATCH = 50


def previews_queue(*, dataset: Dataset) -> int:
    """Queue preview tasks for images that have none yet; returns the number of tasks."""
    from metadata.tasks import previews_task

    ids = list(
        dataset.files.filter(is_image=True, error_code="", preview_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    batches = [ids[start : start + PREVIEW_BATCH] for start in range(0, len(ids), PREVIEW_BATCH)]
    for batch in batches:
        transaction.on_commit(partial(previews_task.enqueue, file_ids=batch))
    return len(batches)


def previews_render(*, file_ids: list[int]) -> int:
    """Render previews for these files; returns how many got one. Idempotent."""
    files = ImageFile.objects.select_related("dataset__storage_root").filter(
        pk__in=file_ids, preview_at__isnull=True
    )
    made = 0
    for image_file in files:
        try:
            folder = dataset_folder(image_file.dataset)
            image_file.preview_png = render_preview(folder / image_file.relative_path, image_file.format)
            image_file.preview_error = ""
            made += 1
        except (PreviewError, PathOutsideRoot) as exc:
            image_file.preview_png = None
            image_file.preview_error = str(exc)
        image_file.preview_at = timezone.now()
        image_file.save(update_fields=["preview_png", "preview_error", "preview_at"])
    return made


def scan_finish(*, run: ScanRun) -> None:
    """Close the run and store the dataset's totals (computed once here, read everywhere)."""
    with transaction.atomic():
        locked = ScanRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != ScanRun.Status.RUNNING and locked.status != ScanRun.Status.PLANNING:
            return
        dataset = locked.dataset
        files = dataset.files.all()
        totals = files.aggregate(
            files=Sum("file_count"),
            bytes=Sum("size_bytes"),
            images=Count("pk", filter=Q(is_image=True)),
            errors=Count("pk", filter=~Q(error_code="")),
            first=Min("acquired_at"),
            last=Max("acquired_at"),
        )
        formats = {
            row["format"]: {"count": row["count"], "bytes": row["bytes"]}
            for row in files.values("format")
            .annotate(count=Count("pk"), bytes=Sum("size_bytes"))
            .order_by("format")
        }
        Dataset.objects.filter(pk=dataset.pk).update(
            status=Dataset.Status.SCANNED,
            file_count=totals["files"] or 0,
            total_bytes=totals["bytes"] or 0,
            image_count=totals["images"],
            error_count=totals["errors"],
            format_summary=formats,
            instruments=_distinct(files, "instrument"),
            objectives=_distinct(files, "objective"),
            acquired_from=totals["first"],
            acquired_to=totals["last"],
            monthly_bytes=_monthly_bytes(files),
            scanned_at=timezone.now(),
        )
        ScanRun.objects.filter(pk=locked.pk).update(
            status=ScanRun.Status.SUCCEEDED, finished_at=timezone.now()
        )
        previews_queue(dataset=dataset)


def _monthly_bytes(files: QuerySet[ImageFile]) -> dict[str, int]:
    """Bytes by month of modification time: how the data grew, for storage reports."""
    months: dict[str, int] = {}
    for mtime, size in files.values_list("mtime", "size_bytes").iterator(chunk_size=10_000):
        month = datetime.datetime.fromtimestamp(mtime, datetime.UTC).strftime("%Y-%m")
        months[month] = months.get(month, 0) + size
    return dict(sorted(months.items()))


def _distinct(files: Any, field: str) -> list[str]:
    # order_by() drops Meta.ordering, whose columns would otherwise defeat DISTINCT.
    return sorted(files.exclude(**{field: ""}).order_by().values_list(field, flat=True).distinct())


@dataclass
class VerifyReport:
    """What changed on disk since the last scan, by checksum."""

    checked: int = 0
    changed: list[str] | None = None
    missing: list[str] | None = None
    new: list[str] | None = None

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.new)


def _digest_unit(path: Path) -> str:
    return hash_tree(path)[0].sha256 if path.is_dir() else hash_file(path).sha256


def dataset_verify(*, dataset: Dataset, jobs: int = 1) -> VerifyReport:
    """Re-hash every file and compare with the stored SHA-256, ignoring size and time.

    A facility runs this after copying data off a transfer server, before deleting the source.
    """
    from concurrent.futures import ProcessPoolExecutor

    folder = dataset_folder(dataset)
    on_disk = {unit.relative_path for unit in walk_units(folder)}
    stored = dict(dataset.files.exclude(sha256="").values_list("relative_path", "sha256"))
    to_check = sorted(on_disk & stored.keys())
    paths = [folder / relative for relative in to_check]
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            digests = list(pool.map(_digest_unit, paths, chunksize=16))
    else:
        digests = [_digest_unit(path) for path in paths]
    return VerifyReport(
        checked=len(to_check),
        changed=[
            relative for relative, digest in zip(to_check, digests, strict=True) if digest != stored[relative]
        ],
        missing=sorted(stored.keys() - on_disk),
        new=sorted(on_disk - stored.keys() - set(dataset.files.values_list("relative_path", flat=True))),
    )
