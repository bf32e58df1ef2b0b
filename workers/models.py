from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# A worker beats every HEARTBEAT_SECONDS; one silent for three beats is reported lost.
HEARTBEAT_SECONDS = 5
LOST_AFTER = timedelta(seconds=3 * HEARTBEAT_SECONDS)


class WorkerHeartbeat(models.Model):
    """A running task worker process, as last reported by the process itself."""

    worker_id = models.CharField(_("worker id"), max_length=64, unique=True)
    hostname = models.CharField(_("host name"), max_length=255)
    pid = models.PositiveIntegerField(_("process id"))
    backend = models.CharField(_("task backend"), max_length=100)
    queues = models.CharField(_("queues"), max_length=255)
    started_at = models.DateTimeField(_("started at"))
    last_seen_at = models.DateTimeField(_("last seen at"))
    tasks_run = models.PositiveIntegerField(_("tasks run"), default=0)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")
        ordering = ["hostname", "started_at"]

    def __str__(self) -> str:
        return f"{self.hostname}:{self.pid}"

    @property
    def is_alive(self) -> bool:
        return timezone.now() - self.last_seen_at < LOST_AFTER
