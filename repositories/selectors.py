"""Reads for the submission pages and the API."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.db.models import QuerySet

from metadata.models import Dataset, RembiRecord
from metadata.zipstream import zip_chunks
from projects.access import AnyUser, visible_projects
from projects.models import Project
from repositories import registry
from repositories.base import PreflightReport, RepositoryTarget
from repositories.models import TRANSITIONS, State, Submission
from repositories.router import Advice, Modality, recommend

# States reached only through their own action: the pre-flight check, the build, the accession.
_BY_ACTION = (State.CHECKED, State.PACKAGED, State.ACCESSIONED)


def submissions_visible_to(user: AnyUser) -> QuerySet[Submission]:
    return Submission.objects.filter(project__in=visible_projects(user)).select_related("project")


def project_submissions(project: Project) -> QuerySet[Submission]:
    return project.submissions.prefetch_related("datasets").order_by("-created_at")


def manual_next_states(submission: Submission) -> list[State]:
    """States a person may choose directly, for the buttons on the submission page."""
    return [State(s) for s in TRANSITIONS[submission.state] if s not in _BY_ACTION]


def preflight_report(submission: Submission) -> PreflightReport | None:
    return PreflightReport.from_json(submission.preflight)


def target_of(submission: Submission) -> RepositoryTarget | None:
    return registry.target_for(submission.target) if registry.is_available(submission.target) else None


def project_datasets(project: Project) -> QuerySet[Dataset]:
    return Dataset.objects.filter(project=project).order_by("title")


def study_licence(project: Project) -> str:
    study = RembiRecord.objects.filter(project=project, class_name="Study").first()
    return str(study.data.get("licence") or "") if study is not None else ""


def router_advice(
    *, project: Project, datasets: list[Dataset], modality: str, is_screen: bool, is_reference: bool
) -> Advice:
    """The router's advice for these datasets: their size and file count, the Study's licence."""
    return recommend(
        modality=Modality(modality),
        total_bytes=sum(d.total_bytes for d in datasets),
        file_count=sum(d.file_count for d in datasets),
        is_screen=is_screen,
        is_reference=is_reference,
        licence=study_licence(project) or "CC0-1.0",
    )


@dataclass(frozen=True)
class PackageEntry:
    name: str
    size: int


def package_entries(submission: Submission) -> list[PackageEntry]:
    if not submission.package_path:
        return []
    folder = Path(submission.package_path)
    if not folder.is_dir():
        return []
    return [
        PackageEntry(path.relative_to(folder).as_posix(), path.stat().st_size)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    ]


def package_zip_chunks(submission: Submission) -> Iterator[bytes]:
    """The package folder as a ZIP (ZIP64 where needed), streamed in pieces."""
    folder = Path(submission.package_path)
    # A generator: the folder is listed when the download starts, like the rest of the stream.
    members = (
        (path, path.relative_to(folder).as_posix()) for path in sorted(folder.rglob("*")) if path.is_file()
    )
    return zip_chunks(members, compression=zipfile.ZIP_DEFLATED)
