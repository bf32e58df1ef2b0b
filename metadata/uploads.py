"""Small datasets uploaded through the browser into the managed upload root.

Files are written into a hidden ".partial-*" folder and moved into place in one rename
once all of them are on disk, so a dataset never sees half an upload; a failed or
aborted upload leaves nothing behind.
"""

from __future__ import annotations

import datetime
import re
import shutil
import time
import unicodedata
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from metadata.models import Dataset
from metadata.services import dataset_register, scan_start
from projects.models import Project, StorageRoot

PARTIAL_PREFIX = ".partial-"
STALE_PARTIAL_SECONDS = 24 * 3600
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def upload_root() -> StorageRoot | None:
    name = settings.FAIRLIGHT_UPLOAD_ROOT
    return StorageRoot.objects.filter(name=name).first() if name else None


def validate_upload_name(name: str) -> str:
    """A file name safe to create as it is: no folders, no hidden files, no control characters."""
    normalized = unicodedata.normalize("NFC", name).strip()
    if not normalized or normalized in (".", ".."):
        raise ValidationError(f"{name!r} is not a file name.")
    if _FORBIDDEN.search(normalized):
        raise ValidationError(f"{name!r} contains a path separator or a control character; rename the file.")
    if normalized.startswith("."):
        raise ValidationError(f"{name!r} is a hidden file name; rename the file.")
    if len(normalized.encode()) > 255:
        raise ValidationError(f"{name[:40]!r}… is longer than 255 bytes; shorten the file name.")
    return normalized


class SizeLimitUploadHandler(TemporaryFileUploadHandler):
    """Stops reading the request once the files exceed the limit, instead of storing it all."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.request.upload_too_large = True  # type: ignore[union-attr]
            # Read and discard the rest, so the browser gets our page rather than a reset connection.
            raise StopUpload(connection_reset=False)
        return super().receive_data_chunk(raw_data, start)


def _remove_stale_partials(root: Path) -> None:
    cutoff = time.time() - STALE_PARTIAL_SECONDS
    for partial in root.glob(f"{PARTIAL_PREFIX}*"):
        if partial.is_dir() and partial.stat().st_mtime < cutoff:
            shutil.rmtree(partial, ignore_errors=True)


def dataset_upload(
    *, project: Project, user: User, title: str, files: Sequence[UploadedFile[Any]], **options: Any
) -> Dataset:
    """Store uploaded files as a new dataset of ``project`` and start its scan."""
    root = upload_root()
    if root is None:
        raise ValidationError("Uploads are not enabled on this site (FAIRLIGHT_UPLOAD_ROOT is not set).")
    if not files:
        raise ValidationError("Choose at least one file.")
    names = [validate_upload_name(upload.name or "") for upload in files]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValidationError(f"Two files are called {duplicates[0]!r}; names must be unique.")
    total = sum(upload.size or 0 for upload in files)
    if total > settings.FAIRLIGHT_UPLOAD_MAX_BYTES:
        raise ValidationError(
            "The files are larger than the upload limit; register a folder on storage instead."
        )

    base = Path(root.path).resolve() / "uploads"
    base.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(base)
    stamp = timezone.now().astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%S")
    final = (
        base / f"project-{project.pk}" / f"{stamp}-{slugify(title)[:50] or 'upload'}-{uuid.uuid4().hex[:6]}"
    )
    partial = base / f"{PARTIAL_PREFIX}{uuid.uuid4().hex}"
    partial.mkdir()
    try:
        for name, upload in zip(names, files, strict=True):
            with (partial / name).open("xb") as target:
                for chunk in upload.chunks():
                    target.write(chunk)
        final.parent.mkdir(parents=True, exist_ok=True)
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    try:
        dataset = dataset_register(
            project=project,
            user=user,
            storage_root=root,
            relative_path=final.relative_to(Path(root.path).resolve()).as_posix(),
            title=title,
            **options,
        )
    except BaseException:
        shutil.rmtree(final, ignore_errors=True)
        raise
    scan_start(dataset=dataset, user=user)
    return dataset
