from __future__ import annotations

from django.contrib import admin

from workers.models import WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin[WorkerHeartbeat]):
    list_display = ("hostname", "pid", "worker_id", "queues", "started_at", "last_seen_at", "tasks_run")
    readonly_fields = list_display
