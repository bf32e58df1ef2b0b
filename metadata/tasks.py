"""Scan tasks: thin wrappers that load by id and call metadata.services."""

from __future__ import annotations

import os
import socket
from typing import Any

from django.tasks import TaskContext, task

from metadata import services
from metadata.models import ScanRun


@task()
def scan_plan_task(*, scan_id: int) -> None:
    run = ScanRun.objects.select_related("dataset__storage_root").filter(pk=scan_id).first()
    if run is not None:
        services.scan_plan(run=run)


@task()
def previews_task(*, file_ids: list[int]) -> int:
    return services.previews_render(file_ids=file_ids)


@task(takes_context=True)
def scan_chunk_task(context: TaskContext[Any, Any], *, chunk_id: int) -> bool:
    worker_ids = context.task_result.worker_ids
    worker = worker_ids[-1] if worker_ids else f"{socket.gethostname()}:{os.getpid()}"
    return services.scan_chunk(chunk_id=chunk_id, worker=worker)
