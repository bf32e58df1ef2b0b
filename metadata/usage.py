"""Storage use per project, team and storage root, with growth by month, as facilities
report (and invoice) it. Reads the totals each scan stores on its dataset."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from metadata.models import Dataset
from projects.access import AnyUser, visible_projects
from projects.models import StorageRoot, Team

CHART_MONTHS = 24


BAR_WIDTH = 20  # SVG units per month
CHART_HEIGHT = 100


@dataclass(frozen=True)
class MonthBar:
    month: str
    added: int
    total: int
    x: int
    y: float
    height: float


@dataclass
class Usage:
    label: str
    files: int = 0
    bytes: int = 0
    quota: int | None = None
    monthly: dict[str, int] = field(default_factory=dict)

    @property
    def quota_percent(self) -> float | None:
        return None if not self.quota else min(100.0, 100.0 * self.bytes / self.quota)

    def bars(self) -> list[MonthBar]:
        """Cumulative size at the end of each of the last CHART_MONTHS months with data."""
        running = 0
        points = []
        for month, added in sorted(self.monthly.items()):
            running += added
            points.append((month, added, running))
        points = points[-CHART_MONTHS:]
        tallest = max((total for _, _, total in points), default=0) or 1
        bars = []
        for index, (month, added, total) in enumerate(points):
            height = CHART_HEIGHT * total / tallest
            bars.append(MonthBar(month, added, total, index * BAR_WIDTH, CHART_HEIGHT - height, height))
        return bars

    @property
    def chart_width(self) -> int:
        return BAR_WIDTH * min(len(self.monthly), CHART_MONTHS)


def _usage(label: str, datasets: Iterable[Dataset], quota: int | None = None) -> Usage:
    usage = Usage(label=label, quota=quota)
    for dataset in datasets:
        usage.files += dataset.file_count
        usage.bytes += dataset.total_bytes
        for month, size in dataset.monthly_bytes.items():
            usage.monthly[month] = usage.monthly.get(month, 0) + size
    return usage


def _fields(datasets: QuerySet[Dataset]) -> QuerySet[Dataset]:
    return datasets.only("file_count", "total_bytes", "monthly_bytes", "project_id", "storage_root_id")


def usage_by_project(user: AnyUser) -> list[Usage]:
    usages = []
    for project in visible_projects(user).order_by("title"):
        usages.append(_usage(str(project), _fields(Dataset.objects.filter(project=project))))
    return usages


def usage_by_team(user: AnyUser) -> list[Usage]:
    """Teams the user belongs to, and every team of the facilities the user stewards."""
    if not user.is_authenticated:
        return []
    teams = Team.objects.filter(Q(members=user) | Q(facility__stewards=user)).distinct().order_by("name")
    return [_usage(team.name, _fields(Dataset.objects.filter(project__team=team))) for team in teams]


def usage_by_root(user: AnyUser) -> list[Usage]:
    """Storage roots of facilities the user stewards (or all, for staff), against their quota."""
    if not user.is_authenticated:
        return []
    roots = StorageRoot.objects.select_related("facility").order_by("name")
    if not user.is_staff:
        roots = roots.filter(facility__stewards=user)
    return [
        _usage(
            f"{root.name} ({root.facility})",
            _fields(Dataset.objects.filter(storage_root=root)),
            root.quota_bytes,
        )
        for root in roots
    ]
