from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count
from django_tasks_db.models import DBTaskResult

from workers.models import WorkerHeartbeat


@dataclass(frozen=True)
class TaskStatusSummary:
    workers: list[WorkerHeartbeat]
    recent_runs: list[DBTaskResult]  # type: ignore[type-arg]
    counts: dict[str, int]


def task_status_summary(*, limit: int = 50) -> TaskStatusSummary:
    counts = {
        row["status"]: row["n"]
        for row in DBTaskResult.objects.values("status").annotate(n=Count("id")).order_by()
    }
    return TaskStatusSummary(
        workers=list(WorkerHeartbeat.objects.all()),
        recent_runs=list(DBTaskResult.objects.order_by("-enqueued_at")[:limit]),
        counts=counts,
    )
