"""The facility dashboard for data stewards: storage by team and project against the quotas,
projects near or over quota, datasets whose copy is not verified, and published data.

Quotas are set per storage root (StorageRoot.quota_bytes), the only quota FAIRlight records,
so teams and projects are measured as their share of the quota of the roots they use, and a
project is near (80 %) or over quota when a root it uses is. It lives in repositories because
it reads datasets (metadata) and submissions; the numbers are the totals each scan keeps on
its dataset, summed in a constant number of queries.

Stewards see every project of their facility; a project of another facility that stores data
on one of its roots is counted but not named.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, F, Q, QuerySet, Sum

from metadata.models import Dataset, VerifyState
from projects.models import Facility, StorageRoot
from repositories.models import ACCESSIONED_STATES, Submission

NEAR_QUOTA = 0.8
UNVERIFIED_LISTED = 100
OTHER_PROJECTS = "Projects of other facilities"
NO_TEAM = "No team"
SEGMENT_COLOURS = 6  # CSS classes chart-seg-0 … chart-seg-5, repeated


@dataclass(frozen=True)
class Segment:
    """One part of a stacked bar, in chart units (the bar is 100 wide)."""

    label: str
    bytes: int
    x: float
    width: float
    colour: int


@dataclass
class Usage:
    label: str
    bytes: int = 0
    files: int = 0
    datasets: int = 0
    project_id: int | None = None  # set for projects the steward may open
    percent: float | None = None  # of the root's quota


@dataclass
class RootUsage:
    root: StorageRoot
    used: int = 0
    files: int = 0
    teams: list[Usage] = field(default_factory=list)
    projects: list[Usage] = field(default_factory=list)

    @property
    def quota(self) -> int | None:
        return self.root.quota_bytes or None

    @property
    def percent(self) -> float | None:
        return None if not self.quota else 100.0 * self.used / self.quota

    @property
    def status(self) -> str:
        """One of: over, near (80 % or more), ok, no quota."""
        if not self.quota:
            return "no quota"
        if self.used >= self.quota:
            return "over"
        return "near" if self.used >= NEAR_QUOTA * self.quota else "ok"

    @property
    def scale(self) -> int:
        """Bytes per full chart width: the quota, or the use when it is larger (or no quota)."""
        return max(self.quota or 0, self.used, 1)

    @property
    def quota_x(self) -> float | None:
        return None if not self.quota else 100.0 * self.quota / self.scale

    @property
    def near_x(self) -> float | None:
        return None if not self.quota else 100.0 * NEAR_QUOTA * self.quota / self.scale

    def _segments(self, parts: list[Usage]) -> list[Segment]:
        segments, x = [], 0.0
        for index, part in enumerate(parts):
            width = 100.0 * part.bytes / self.scale
            segments.append(
                Segment(part.label, part.bytes, round(x, 3), round(width, 3), index % SEGMENT_COLOURS)
            )
            x += width
        return segments

    @property
    def team_segments(self) -> list[Segment]:
        return self._segments(self.teams)

    @property
    def project_segments(self) -> list[Segment]:
        return self._segments(self.projects)


@dataclass(frozen=True)
class QuotaAlert:
    """A project using a root that is near or over its quota."""

    project: Usage
    root: RootUsage


@dataclass(frozen=True)
class UnverifiedDataset:
    dataset: Dataset

    @property
    def reason(self) -> str:
        dataset = self.dataset
        if dataset.scanned_at is None:
            return "Not scanned yet, so there are no checksums to verify against."
        if dataset.verify_state == VerifyState.NEVER or dataset.verified_at is None:
            return "Never verified."
        verified = f"{dataset.verified_at:%Y-%m-%d}"
        if dataset.verify_state == VerifyState.DIFFERS:
            return f"The verification on {verified} found differences: {dataset.verify_message}"
        return f"Scanned again on {dataset.scanned_at:%Y-%m-%d}, after the verification on {verified}."


@dataclass(frozen=True)
class PublishedProject:
    project_id: int
    title: str
    submissions: list[Submission]


@dataclass
class FacilityDashboard:
    facility: Facility
    roots: list[RootUsage]
    alerts: list[QuotaAlert]
    unverified: list[UnverifiedDataset]
    unverified_count: int
    published: list[PublishedProject]

    @property
    def used(self) -> int:
        return sum(root.used for root in self.roots)

    @property
    def quota(self) -> int:
        return sum(root.quota or 0 for root in self.roots)


def _sorted(usages: dict[object, Usage]) -> list[Usage]:
    return sorted(usages.values(), key=lambda usage: (-usage.bytes, usage.label))


def _root_usages(facility: Facility) -> list[RootUsage]:
    roots = {
        root.pk: RootUsage(root=root)
        for root in StorageRoot.objects.filter(facility=facility).order_by("name")
    }
    rows = (
        Dataset.objects.filter(storage_root__facility=facility)
        .values(
            "storage_root_id",
            "project_id",
            "project__title",
            "project__acronym",
            "project__facility_id",
            "project__team_id",
            "project__team__name",
        )
        .annotate(byte_total=Sum("total_bytes"), file_total=Sum("file_count"), dataset_total=Count("pk"))
        .order_by()
    )
    teams: dict[int, dict[object, Usage]] = defaultdict(dict)
    projects: dict[int, dict[object, Usage]] = defaultdict(dict)
    for row in rows:
        root = roots[row["storage_root_id"]]
        size, files = row["byte_total"] or 0, row["file_total"] or 0
        root.used += size
        root.files += files
        ours = row["project__facility_id"] == facility.pk
        if ours:
            acronym = row["project__acronym"]
            label = f"{acronym}: {row['project__title']}" if acronym else row["project__title"]
            project_key: object = row["project_id"]
            team_key: object = row["project__team_id"]
            team_label = row["project__team__name"] or NO_TEAM
        else:
            label, project_key, team_key, team_label = OTHER_PROJECTS, "other", "other", OTHER_PROJECTS
        project = projects[root.root.pk].setdefault(
            project_key, Usage(label, project_id=row["project_id"] if ours else None)
        )
        team = teams[root.root.pk].setdefault(team_key, Usage(team_label))
        for usage in (project, team):
            usage.bytes += size
            usage.files += files
            usage.datasets += row["dataset_total"]
    for pk, root in roots.items():
        root.teams = _sorted(teams[pk])
        root.projects = _sorted(projects[pk])
        for usage in (*root.teams, *root.projects):
            usage.percent = None if not root.quota else 100.0 * usage.bytes / root.quota
    return list(roots.values())


def _alerts(roots: list[RootUsage]) -> list[QuotaAlert]:
    alerts = [
        QuotaAlert(project=project, root=root)
        for root in roots
        if root.status in ("near", "over")
        for project in root.projects
        if project.project_id is not None
    ]
    return sorted(
        alerts, key=lambda alert: (-(alert.root.percent or 0), -alert.project.bytes, alert.project.label)
    )


def unverified_datasets(facility: Facility) -> QuerySet[Dataset]:
    """Datasets of the facility's projects on its storage whose copy is not verified: never
    verified, found to differ, or scanned again since (a scan may have replaced the checksums)."""
    verified = Q(verify_state=VerifyState.INTACT, verified_at__isnull=False) & (
        Q(scanned_at__isnull=True) | Q(verified_at__gte=F("scanned_at"))
    )
    return (
        Dataset.objects.filter(storage_root__facility=facility, project__facility=facility)
        .exclude(verified)
        .select_related("project", "storage_root")
        .order_by("project__title", "title", "pk")
    )


def _published(facility: Facility) -> list[PublishedProject]:
    submissions = (
        Submission.objects.filter(project__facility=facility, state__in=ACCESSIONED_STATES)
        .select_related("project")
        .order_by("project__title", "project_id", "release_date", "pk")
    )
    grouped: dict[int, PublishedProject] = {}
    for submission in submissions:
        entry = grouped.setdefault(
            submission.project_id, PublishedProject(submission.project_id, str(submission.project), [])
        )
        entry.submissions.append(submission)
    return list(grouped.values())


def facility_dashboard(facility: Facility) -> FacilityDashboard:
    """Everything the dashboard shows; the caller has checked that the user stewards the facility."""
    roots = _root_usages(facility)
    unverified = unverified_datasets(facility)
    return FacilityDashboard(
        facility=facility,
        roots=roots,
        alerts=_alerts(roots),
        unverified=[UnverifiedDataset(dataset) for dataset in unverified[:UNVERIFIED_LISTED]],
        unverified_count=unverified.count(),
        published=_published(facility),
    )
