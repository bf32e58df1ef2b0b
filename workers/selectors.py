from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Count
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks_db.models import DBTaskResult

from workers.models import WorkerHeartbeat
from workers.rq_backend import RQBackend, TaskRun


@dataclass(frozen=True)
class TaskStatusSummary:
    workers: list[WorkerHeartbeat]
    recent_runs: Sequence[DBTaskResult | TaskRun]  # type: ignore[type-arg]
    counts: dict[str, int]


def task_status_summary(*, limit: int = 50) -> TaskStatusSummary:
    workers = list(WorkerHeartbeat.objects.all())
    backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    if isinstance(backend, RQBackend):
        # On Redis the runs live in RQ's registries, not in the database.
        return TaskStatusSummary(
            workers=workers, recent_runs=backend.recent_runs(limit=limit), counts=backend.status_counts()
        )
    counts = {
        row["status"]: row["n"]
        for row in DBTaskResult.objects.values("status").annotate(n=Count("id")).order_by()
    }
    return TaskStatusSummary(
        workers=workers,
        recent_runs=list(DBTaskResult.objects.order_by("-enqueued_at")[:limit]),
        counts=counts,
    )
