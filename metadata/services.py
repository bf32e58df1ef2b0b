"""Registering datasets and scanning them: header metadata and checksums, in chunks.

A scan lists the folder into units (files, OME-Zarr folders), splits them into
chunks and queues one task per chunk, so several workers can share a dataset.
Rows are upserted by path, and a chunk whose worker stopped beating is handed
to the next worker, so a scan interrupted at any point finishes without
duplicates or losses when it is run again.

The dataset's totals (files, bytes, images, errors, bytes by format and by month) change in
the same transaction as the rows they count, by the difference each write makes, so they are
right at every moment of a scan, after a crash too, and never need a pass over all rows.
"""

from __future__ import annotations

import datetime
import logging
import os
import socket
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Max, Min, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import User
from metadata.imaging import InspectionError, ScanUnit, inspect_path, walk_units
from metadata.imaging.checksum import hash_file, hash_tree
from metadata.imaging.errors import ErrorCode
from metadata.imaging.formats import Format
from metadata.imaging.preview import PreviewError, render_preview
from metadata.imaging.units import tree_totals, undecodable_original
from metadata.models import Dataset, ImageFile, ScanChunk, ScanRun, VerifyState
from projects.models import Project, StorageRoot
from projects.storage import PathOutsideRoot
from workers.heartbeat import Heartbeat, alive_worker_ids

logger = logging.getLogger(__name__)

# A chunk holds at most this many units or bytes: small enough to spread a dataset over
# workers and lose little work when one dies, large enough to keep overhead low.
CHUNK_UNITS = settings.FAIRLIGHT_SCAN_CHUNK_FILES
CHUNK_BYTES = 16 * 1024**3
UNDECODABLE_NAME = (
    "The file name is not valid UTF-8 text (shown with \\xNN for each byte that is not), so it "
    "cannot be listed or archived as it is; rename the file and scan again."
)
# Rows and progress are written at least this often while a chunk runs, and at least four
# times a chunk, so a worker that dies loses at most a quarter of its chunk.
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


def _claimable(chunks: Any) -> Any:
    """Pending chunks, and running chunks whose worker has stopped beating (on this host:
    whose process is gone, so a worker killed here frees its chunks at once)."""
    return chunks.filter(
        Q(status=ScanChunk.Status.PENDING)
        | (Q(status=ScanChunk.Status.RUNNING) & ~Q(worker__in=alive_worker_ids()))
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
        _delete_rows(dataset.pk, gone[start : start + 1000])
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


# The row fields the dataset's totals are made of, in the order _Totals.count() takes them.
_TOTAL_FIELDS = ("file_count", "size_bytes", "is_image", "error_code", "format", "mtime")


def _month(mtime: float) -> str:
    return datetime.datetime.fromtimestamp(mtime, datetime.UTC).strftime("%Y-%m")


@dataclass
class _Totals:
    """How much some row writes change their dataset's totals (negative for rows taken away)."""

    files: int = 0
    bytes: int = 0
    images: int = 0
    errors: int = 0
    formats: dict[str, list[int]] = field(default_factory=dict)  # format -> [rows, bytes]
    months: dict[str, int] = field(default_factory=dict)

    def count(self, values: Iterable[Any], sign: int) -> None:
        file_count, size, is_image, error_code, fmt, mtime = values
        self.files += sign * file_count
        self.bytes += sign * size
        self.images += sign * bool(is_image)
        self.errors += sign * bool(error_code)
        per_format = self.formats.setdefault(str(fmt), [0, 0])
        per_format[0] += sign
        per_format[1] += sign * size
        month = _month(mtime)
        self.months[month] = self.months.get(month, 0) + sign * size

    def apply(self, dataset_id: int) -> None:
        """Add to the dataset's totals; call inside the transaction that wrote the rows.

        Counters change with F() expressions; the per-format and per-month JSON is merged
        under the dataset row's lock, which also orders concurrent chunks of one scan."""
        if not self.formats:
            return
        locked = Dataset.objects.select_for_update().filter(pk=dataset_id)
        stored = locked.values("format_summary", "monthly_bytes").get()
        formats: dict[str, dict[str, int]] = dict(stored["format_summary"] or {})
        for fmt, (rows, size) in self.formats.items():
            entry = formats.get(fmt, {"count": 0, "bytes": 0})
            entry = {"count": entry["count"] + rows, "bytes": entry["bytes"] + size}
            if entry["count"]:
                formats[fmt] = entry
            else:
                formats.pop(fmt, None)
        months: dict[str, int] = dict(stored["monthly_bytes"] or {})
        for month, size in self.months.items():
            months[month] = months.get(month, 0) + size
        Dataset.objects.filter(pk=dataset_id).update(
            file_count=F("file_count") + self.files,
            total_bytes=F("total_bytes") + self.bytes,
            image_count=F("image_count") + self.images,
            error_count=F("error_count") + self.errors,
            format_summary=dict(sorted(formats.items())),
            monthly_bytes={month: size for month, size in sorted(months.items()) if size},
        )


def _delete_rows(dataset_id: int, pks: list[int]) -> None:
    with transaction.atomic():
        doomed = ImageFile.objects.select_for_update().filter(dataset_id=dataset_id, pk__in=pks)
        totals = _Totals()
        for values in doomed.values_list(*_TOTAL_FIELDS):
            totals.count(values, -1)
        ImageFile.objects.filter(dataset_id=dataset_id, pk__in=pks).delete()
        totals.apply(dataset_id)


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


def _save_rows(dataset_id: int, rows: list[ImageFile]) -> _Totals:
    """Upsert the rows and return what that changes in the totals; call inside a transaction.

    The rows' current values are read under lock at write time rather than trusted from the
    start of the chunk, so a chunk run twice at once still counts each file once."""
    totals = _Totals()
    if not rows:
        return totals
    current = ImageFile.objects.select_for_update().filter(
        dataset_id=dataset_id, relative_path__in=[row.relative_path for row in rows]
    )
    for values in current.values_list(*_TOTAL_FIELDS):
        totals.count(values, -1)
    for row in rows:
        totals.count((getattr(row, name) for name in _TOTAL_FIELDS), 1)
    ImageFile.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["dataset", "relative_path"],
        update_fields=_UPDATE_FIELDS,
    )
    rows.clear()
    return totals


def _flush(dataset_id: int, run_id: int, rows: list[ImageFile], progress: _Progress) -> None:
    # Rows, then the run's progress, then the dataset's totals: the order scan_finish locks
    # the run and the dataset in, so concurrent chunks and the finish cannot deadlock.
    totals = _save_rows(dataset_id, rows)
    progress.flush(run_id)
    totals.apply(dataset_id)


def scan_chunk(*, chunk_id: int, worker: str) -> bool:
    """Claim and run one chunk; False when another worker has it or it is done.

    A run that fails (the database restarted, the storage went away) hands its chunk back as
    pending, so that running the scan again finishes it. What an interrupted attempt committed
    stays: its rows with their totals and progress, which the next attempt does not count again."""
    claimed = _claimable(ScanChunk.objects.filter(pk=chunk_id)).update(
        status=ScanChunk.Status.RUNNING, worker=worker, claimed_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    try:
        run = _run_chunk(chunk_id)
    except Exception:
        # Not on SystemExit and the like: a worker that stops frees its chunks by stopping.
        _release(chunk_id, worker)
        raise
    if not run.chunks.exclude(status=ScanChunk.Status.DONE).exists():
        scan_finish(run=run)
    return True


def _run_chunk(chunk_id: int) -> ScanRun:
    chunk = ScanChunk.objects.select_related("scan__dataset__storage_root").get(pk=chunk_id)
    run = chunk.scan
    dataset = run.dataset
    folder = dataset_folder(dataset)
    known = {
        row.relative_path: row
        for row in dataset.files.filter(relative_path__in=chunk.paths).only(
            "relative_path", "size_bytes", "mtime", "sha256", "md5", "error_code", "scanned_at"
        )
    }
    progress = _Progress()
    rows: list[ImageFile] = []
    flush_units = max(1, min(FLUSH_UNITS, CHUNK_UNITS // 4))
    last_flush = time.monotonic()
    for relative in chunk.paths:
        previous = known.get(relative)
        row = _scan_unit(dataset, folder, relative, previous)
        # Written by an earlier attempt at this chunk, in the same transaction as its progress.
        counted = previous is not None and previous.scanned_at >= run.created_at
        if row is not None:
            rows.append(row)
        if not counted:
            progress.files += 1
            if row is None:
                progress.skipped += 1
                progress.bytes += known[relative].size_bytes
            else:
                progress.bytes += row.size_bytes
                progress.failed += bool(row.error_code)
        if len(rows) >= flush_units or time.monotonic() - last_flush > FLUSH_SECONDS:
            with transaction.atomic():
                _flush(dataset.pk, run.pk, rows, progress)
            last_flush = time.monotonic()
    with transaction.atomic():
        _flush(dataset.pk, run.pk, rows, progress)
        ScanChunk.objects.filter(pk=chunk_id).update(status=ScanChunk.Status.DONE, finished_at=timezone.now())
    return run


# Waits before each attempt to hand a failed chunk back: a restarting database is usually
# back within seconds, and until then the worker has nothing else it could do.
_RELEASE_WAITS = (0.0, 1.0, 2.0, 4.0, 8.0)


def _release(chunk_id: int, worker: str) -> None:
    """Make a chunk this worker failed to finish pending again."""
    # Inside a caller's transaction a failed write cannot be retried; outside one it can.
    waits = _RELEASE_WAITS if not connection.in_atomic_block else _RELEASE_WAITS[:1]
    for wait in waits:
        time.sleep(wait)
        try:
            if not connection.in_atomic_block:
                # A query that failed leaves its dropped connection in place; replace it.
                connection.close_if_unusable_or_obsolete()
            ScanChunk.objects.filter(pk=chunk_id, status=ScanChunk.Status.RUNNING, worker=worker).update(
                status=ScanChunk.Status.PENDING
            )
            return
        except DatabaseError:
            continue
    # The chunk stays this worker's until the worker stops; then any worker may claim it.
    logger.warning("Chunk %s could not be handed back after its run failed.", chunk_id)


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
        if undecodable_original(folder, relative) is not None:
            return _with_error(row, InspectionError(ErrorCode.UNREADABLE, UNDECODABLE_NAME))
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
    except Exception as exc:
        # A reader that fails in a way nobody foresaw costs this file, not the chunk: a chunk that
        # raised would be handed back and fail again on every later attempt.
        logger.exception("Reading %s failed unexpectedly.", path)
        _with_error(row, InspectionError(ErrorCode.CORRUPT, _reader_failed(exc)))
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
    except FileNotFoundError:
        return _with_error(row, InspectionError(ErrorCode.VANISHED, "The file disappeared during the scan."))
    except OSError as exc:
        return _with_error(
            row, InspectionError(ErrorCode.UNREADABLE, f"Checksum failed: {exc.strerror or exc}.")
        )
    row.sha256 = digests.sha256
    row.md5 = digests.md5 or ""
    return row


def _reader_failed(exc: Exception) -> str:
    return (
        f"The reader failed on this file ({type(exc).__name__}: {str(exc)[:200] or 'no details'}); "
        "the file may be damaged, or of a kind FAIRlight cannot read yet."
    )


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
    """Close the run. The counted totals are already up to date (the chunks keep them); the
    instruments, objectives and acquisition dates are read here through their indexes."""
    with transaction.atomic():
        locked = ScanRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != ScanRun.Status.RUNNING and locked.status != ScanRun.Status.PLANNING:
            return
        dataset = locked.dataset
        files = dataset.files.all()
        dates = files.aggregate(first=Min("acquired_at"), last=Max("acquired_at"))
        Dataset.objects.filter(pk=dataset.pk).update(
            status=Dataset.Status.SCANNED,
            instruments=_distinct(files, "instrument"),
            objectives=_distinct(files, "objective"),
            acquired_from=dates["first"],
            acquired_to=dates["last"],
            scanned_at=timezone.now(),
        )
        ScanRun.objects.filter(pk=locked.pk).update(
            status=ScanRun.Status.SUCCEEDED, finished_at=timezone.now()
        )
        previews_queue(dataset=dataset)


def _distinct(files: QuerySet[ImageFile], field: str) -> list[str]:
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

    @property
    def summary(self) -> str:
        return (
            f"{self.checked} files re-hashed: {len(self.changed or [])} changed, "
            f"{len(self.missing or [])} missing, {len(self.new or [])} new."
        )


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
    report = VerifyReport(
        checked=len(to_check),
        changed=[
            relative for relative, digest in zip(to_check, digests, strict=True) if digest != stored[relative]
        ],
        missing=sorted(stored.keys() - on_disk),
        new=sorted(on_disk - stored.keys() - set(dataset.files.values_list("relative_path", flat=True))),
    )
    Dataset.objects.filter(pk=dataset.pk).update(
        verify_state=VerifyState.INTACT if report.ok else VerifyState.DIFFERS,
        verified_at=timezone.now(),
        verify_message=report.summary,
    )
    return report
