"""Reads for dataset pages, the API and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from metadata.models import Dataset, ImageFile, ScanRun
from projects.access import AnyUser, visible_projects


def datasets_visible_to(user: AnyUser) -> QuerySet[Dataset]:
    return Dataset.objects.filter(project__in=visible_projects(user)).select_related(
        "project", "storage_root"
    )


def dataset_files(
    *,
    dataset: Dataset,
    format: str = "",
    errors_only: bool = False,
    instrument: str = "",
    search: str = "",
    path_prefix: str = "",
) -> QuerySet[ImageFile]:
    """The dataset's files, filtered. Format, instrument, errors and path prefix each have an
    index ending in the path (see ImageFile.Meta), so a page ordered by path stays one index
    range read at millions of rows; ``search`` (a substring anywhere in the path) cannot use
    an index and reads the dataset's rows in path order until a page is full."""
    files = dataset.files.defer("ome_xml_gz", "preview_png")
    if format:
        files = files.filter(format=format)
    if errors_only:
        files = files.exclude(error_code="")
    if instrument:
        files = files.filter(instrument=instrument)
    if path_prefix:
        # The lower bound lets a page in path order start at the prefix instead of reading
        # from the first path; it holds under any collation, since a string never sorts
        # before its own prefix. The LIKE then uses the varchar_pattern_ops index for rare
        # prefixes on PostgreSQL.
        files = files.filter(relative_path__gte=path_prefix, relative_path__startswith=path_prefix)
    if search:
        files = files.filter(relative_path__icontains=search)
    return files


@dataclass(frozen=True)
class ScanProgress:
    percent: float
    bytes_per_second: float
    eta_seconds: float | None

    def bar(self, width: int) -> str:
        filled = round(width * self.percent / 100)
        return "#" * filled + "-" * (width - filled)

    @property
    def eta_text(self) -> str:
        if self.eta_seconds is None:
            return "—"
        minutes, seconds = divmod(round(self.eta_seconds), 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


def scan_progress(run: ScanRun) -> ScanProgress:
    """Percent by bytes (files when the dataset is empty), rate since the run began, and ETA."""
    if run.bytes_total:
        percent = 100.0 * run.bytes_done / run.bytes_total
    elif run.files_total:
        percent = 100.0 * run.files_done / run.files_total
    else:
        percent = 100.0 if not run.is_active else 0.0
    end = run.finished_at or timezone.now()
    elapsed = max((end - run.created_at).total_seconds(), 1e-3)
    rate = run.bytes_done / elapsed
    remaining = run.bytes_total - run.bytes_done
    eta = remaining / rate if run.is_active and rate > 0 else None
    return ScanProgress(percent=min(percent, 100.0), bytes_per_second=rate, eta_seconds=eta)


def dataset_gallery(dataset: Dataset, *, limit: int = 12) -> QuerySet[ImageFile]:
    """The first images that have a preview, for the dataset page."""
    return (
        dataset.files.filter(preview_at__isnull=False, preview_error="")
        .only("pk", "relative_path", "preview_at", "preview_error")
        .order_by("relative_path")[:limit]
    )


def latest_scan(dataset: Dataset) -> ScanRun | None:
    return dataset.scans.order_by("-created_at").first()


def files_with_errors(dataset: Dataset) -> QuerySet[ImageFile]:
    return dataset.files.filter(~Q(error_code="")).only("relative_path", "error_code", "error")
