"""Sharing a dataset with someone who has no account: a time-limited, revocable link to its
metadata and a chosen few of its files, as facilities do to show sample data.

The link's key (32 random bytes) is shown once; only its SHA-256 is stored. Whoever holds
the key sees the dataset's title, description, REMBI summary and the chosen files, and can
download those files, streamed from storage with the same path containment as every other
read (projects.storage): nothing else of the project is reachable. Every request made
through a link, served or refused, is logged with its time, address and browser.

Managers and owners create and revoke links and read their log: handing unpublished data
to people outside the project is a decision for those who manage it, as inviting members is.
"""

from __future__ import annotations

import datetime
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from metadata.models import REMBI_CLASS_CHOICES, Dataset, ImageFile, RembiRecord, ShareAccess, ShareLink
from metadata.rembi import CORE_CLASSES
from metadata.zipstream import zip_chunks
from projects import access
from projects.storage import PathOutsideRoot, resolve_within

SHARE_ROLE = access.MANAGE
MAX_DAYS = 90
DEFAULT_DAYS = 14
MAX_FILES = 200
CHUNK = 1024 * 1024


class LinkState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


def link_state(link: ShareLink, *, now: datetime.datetime) -> LinkState:
    if link.revoked_at is not None:
        return LinkState.REVOKED
    if link.expires_at <= now:
        return LinkState.EXPIRED
    return LinkState.ACTIVE


# Creating and revoking -------------------------------------------------------------------------


def _files_by_path(dataset: Dataset, paths: list[str]) -> list[ImageFile]:
    wanted = list(dict.fromkeys(path.strip().strip("/") for path in paths if path.strip()))
    if len(wanted) > MAX_FILES:
        raise ValidationError({"files": f"A link shares at most {MAX_FILES} files; you chose {len(wanted)}."})
    found = {
        f.relative_path: f for f in dataset.files.filter(relative_path__in=wanted).only("pk", "relative_path")
    }
    unknown = [path for path in wanted if path not in found]
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        raise ValidationError({"files": f"These paths are not files of “{dataset}”: {shown}."})
    return [found[path] for path in wanted]


def _files_by_id(dataset: Dataset, ids: list[int]) -> list[ImageFile]:
    wanted = list(dict.fromkeys(ids))
    if len(wanted) > MAX_FILES:
        raise ValidationError({"files": f"A link shares at most {MAX_FILES} files; you chose {len(wanted)}."})
    found = {f.pk: f for f in dataset.files.filter(pk__in=wanted).only("pk", "relative_path")}
    unknown = [str(pk) for pk in wanted if pk not in found]
    if unknown:
        raise ValidationError({"files": f"These ids are not files of “{dataset}”: {', '.join(unknown[:5])}."})
    return [found[pk] for pk in wanted]


def share_link_create(
    *,
    dataset: Dataset,
    user: User,
    expires_at: datetime.datetime,
    note: str = "",
    paths: list[str] | None = None,
    file_ids: list[int] | None = None,
    now: datetime.datetime | None = None,
) -> tuple[ShareLink, str]:
    """A new link and its key, which is returned once and never stored.

    Files are named by path (web form) or by id (API); naming none shares the metadata alone.
    Raises PermissionDenied below the manager role, ValidationError for a bad date or file."""
    access.require_role(user, dataset.project, SHARE_ROLE)
    now = now or timezone.now()
    if expires_at <= now:
        raise ValidationError({"expires_at": "Choose an expiry in the future."})
    if expires_at > now + datetime.timedelta(days=MAX_DAYS):
        latest = (now + datetime.timedelta(days=MAX_DAYS)).strftime("%Y-%m-%d")
        raise ValidationError(
            {"expires_at": f"A link may stay valid for at most {MAX_DAYS} days, that is until {latest}."}
        )
    files = _files_by_id(dataset, file_ids) if file_ids is not None else _files_by_path(dataset, paths or [])
    link = ShareLink(dataset=dataset, note=note.strip(), created_by=user, expires_at=expires_at)
    key = ShareLink.new_key()
    link.set_key(key)
    link.full_clean()
    with transaction.atomic():
        link.save()
        link.files.set(files)
    return link, key


def share_link_revoke(*, link: ShareLink, user: User, now: datetime.datetime | None = None) -> ShareLink:
    """Revoke the link at once; a link already revoked keeps its first revocation."""
    access.require_role(user, link.dataset.project, SHARE_ROLE)
    if link.revoked_at is None:
        ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
            revoked_at=now or timezone.now(), revoked_by=user
        )
        link.refresh_from_db(fields=["revoked_at", "revoked_by"])
    return link


# Reading for the managers' page and the API ------------------------------------------------------


def links_of(dataset: Dataset) -> QuerySet[ShareLink]:
    """The dataset's links, newest first, with how often each was used and when last."""
    return (
        ShareLink.objects.filter(dataset=dataset)
        .select_related("created_by", "revoked_by")
        .annotate(file_count=Count("files", distinct=True), access_count=Count("accesses", distinct=True))
        .annotate(last_access_at=Max("accesses__at"))
    )


def access_log(dataset: Dataset, *, limit: int = 100) -> QuerySet[ShareAccess]:
    return (
        ShareAccess.objects.filter(link__dataset=dataset)
        .select_related("link")
        .order_by("-at", "-pk")[:limit]
    )


# The public side -------------------------------------------------------------------------------


class LinkGone(Exception):
    """The link exists but may not be used any more; the message says since when and why."""

    def __init__(self, link: ShareLink, state: LinkState) -> None:
        when = link.revoked_at if state == LinkState.REVOKED else link.expires_at
        stamp = f"{when:%Y-%m-%d %H:%M} UTC" if when else ""
        reason = "was withdrawn by the project on" if state == LinkState.REVOKED else "expired on"
        super().__init__(f"This link {reason} {stamp}. Ask the person who sent it for a new one.")
        self.link = link
        self.state = state


@dataclass(frozen=True)
class Visit:
    """Who made a request, for the log."""

    ip: str | None
    user_agent: str


def link_for_key(key: str) -> ShareLink | None:
    """The link with this key (active or not), or None for a key nobody was given."""
    return ShareLink.objects.matching(key).select_related("dataset__project", "dataset__storage_root").first()


def _log(
    link: ShareLink,
    visit: Visit,
    *,
    what: str,
    outcome: str,
    image_file: ImageFile | None = None,
    path: str = "",
) -> ShareAccess:
    return ShareAccess.objects.create(
        link=link,
        ip=visit.ip,
        user_agent=visit.user_agent[:500],
        what=what,
        outcome=outcome,
        file=image_file,
        path=path or (image_file.relative_path if image_file else ""),
    )


def open_link(link: ShareLink, visit: Visit, *, what: str, now: datetime.datetime | None = None) -> None:
    """Log a request and refuse it with LinkGone when the link is expired or revoked."""
    state = link_state(link, now=now or timezone.now())
    if state != LinkState.ACTIVE:
        outcome = ShareAccess.Outcome.REVOKED if state == LinkState.REVOKED else ShareAccess.Outcome.EXPIRED
        _log(link, visit, what=what, outcome=outcome)
        raise LinkGone(link, state)


def page_visit(link: ShareLink, visit: Visit, *, now: datetime.datetime | None = None) -> None:
    open_link(link, visit, what=ShareAccess.What.PAGE, now=now)
    _log(link, visit, what=ShareAccess.What.PAGE, outcome=ShareAccess.Outcome.SERVED)


def shared_files(link: ShareLink) -> QuerySet[ImageFile]:
    return link.files.defer("ome_xml_gz", "preview_png", "metadata").order_by("relative_path")


@dataclass(frozen=True)
class ModuleSummary:
    label: str
    title: str
    facts: list[tuple[str, str]]


def _facts(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The record's plain fields (text, numbers, lists of text) in plain words."""
    facts = []
    for name, value in data.items():
        if name == "title" or value in (None, "", []):
            continue
        if isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
            text = ", ".join(str(item) for item in value)
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            text = str(value)
        else:
            continue
        facts.append((name.replace("_", " ").capitalize(), text))
    return facts


def rembi_summary(dataset: Dataset) -> list[ModuleSummary]:
    """The dataset's core REMBI modules (the project's Study and the records the dataset uses)."""
    labels = dict(REMBI_CLASS_CHOICES)
    records = RembiRecord.objects.filter(
        Q(project=dataset.project_id, class_name="Study") | Q(datasets=dataset, class_name__in=CORE_CLASSES)
    )
    first: dict[str, RembiRecord] = {}
    # The first record of each module by id, as metadata.rembi.record_for picks it.
    for record in records.distinct().order_by("pk"):
        first.setdefault(record.class_name, record)
    return [
        ModuleSummary(str(labels[name]), first[name].title, _facts(first[name].data))
        for name in CORE_CLASSES
        if name in first
    ]


class FileUnavailable(Exception):
    """A shared file that cannot be served; the message says why in plain words."""


@dataclass
class Download:
    """A file (or an OME-Zarr folder, as a ZIP) ready to stream; ``chunks`` logs the bytes sent."""

    name: str
    size: int | None
    content_type: str
    chunks: Iterator[bytes]


def _served(link: ShareLink, visit: Visit, image_file: ImageFile) -> ShareAccess:
    return _log(
        link, visit, what=ShareAccess.What.FILE, outcome=ShareAccess.Outcome.SERVED, image_file=image_file
    )


def _counting(chunks: Iterator[bytes], record: ShareAccess) -> Iterator[bytes]:
    """Pass the chunks on and store how many bytes went out, also when the download is cut off."""
    sent = 0
    try:
        for chunk in chunks:
            sent += len(chunk)
            yield chunk
    finally:
        ShareAccess.objects.filter(pk=record.pk).update(bytes_sent=sent)


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            yield chunk


def _folder_members(folder: Path) -> list[Path]:
    """The files below an OME-Zarr folder; links leading out of it are left out, not followed."""
    members = []
    for current, _dirs, names in os.walk(folder):
        for name in sorted(names):
            candidate = Path(current) / name
            try:
                real = resolve_within(folder, candidate.relative_to(folder).as_posix())
            except PathOutsideRoot:
                continue
            if real.is_file():
                members.append(candidate)
    return sorted(members)


def _zip_chunks(folder: Path) -> Iterator[bytes]:
    # A generator: the folder is listed when the download starts, like the rest of the stream.
    members = (
        (path, (Path(folder.name) / path.relative_to(folder)).as_posix()) for path in _folder_members(folder)
    )
    # Stored, not deflated: OME-Zarr chunks are compressed already.
    return zip_chunks(members, compression=zipfile.ZIP_STORED)


def file_download(
    link: ShareLink, visit: Visit, *, file_id: int, now: datetime.datetime | None = None
) -> Download:
    """A shared file, streamed from storage; raises LinkGone, ImageFile.DoesNotExist for a file
    the link does not share, or FileUnavailable. Every outcome is logged."""
    open_link(link, visit, what=ShareAccess.What.FILE, now=now)
    image_file = link.files.filter(pk=file_id).only("pk", "relative_path", "size_bytes").first()
    if image_file is None:
        refused = (
            ImageFile.objects.filter(pk=file_id, dataset=link.dataset_id).only("pk", "relative_path").first()
        )
        _log(
            link,
            visit,
            what=ShareAccess.What.FILE,
            outcome=ShareAccess.Outcome.NOT_SHARED,
            image_file=refused,
            path="" if refused else f"file id {file_id}",
        )
        raise ImageFile.DoesNotExist("This link does not share that file.")
    dataset = link.dataset
    try:
        folder = dataset.storage_root.resolve(dataset.relative_path)
        path = resolve_within(folder, image_file.relative_path)
        if not path.exists():
            raise FileUnavailable("The file is no longer on the facility's storage.")
    except (PathOutsideRoot, FileUnavailable) as exc:
        _log(
            link,
            visit,
            what=ShareAccess.What.FILE,
            outcome=ShareAccess.Outcome.UNAVAILABLE,
            image_file=image_file,
        )
        message = str(exc) if isinstance(exc, FileUnavailable) else "This file cannot be served from storage."
        raise FileUnavailable(message) from None
    record = _served(link, visit, image_file)
    if path.is_dir():
        return Download(
            name=f"{path.name}.zip",
            size=None,
            content_type="application/zip",
            chunks=_counting(_zip_chunks(path), record),
        )
    return Download(
        name=path.name,
        size=path.stat().st_size,
        content_type="application/octet-stream",
        chunks=_counting(_file_chunks(path), record),
    )
