"""Worker heartbeats: each worker process records that it is alive, for the status page."""

from __future__ import annotations

import os
import socket
import threading

from django.db import connection
from django.utils import timezone

from workers.models import HEARTBEAT_SECONDS, WorkerHeartbeat


class Heartbeat:
    """Writes a WorkerHeartbeat row now and every few seconds until stopped."""

    def __init__(self, *, worker_id: str, backend: str, queues: str) -> None:
        self.worker_id = worker_id
        self.tasks_run = 0
        self._stop = threading.Event()
        now = timezone.now()
        WorkerHeartbeat.objects.update_or_create(
            worker_id=worker_id,
            defaults={
                "hostname": socket.gethostname(),
                "pid": os.getpid(),
                "backend": backend,
                "queues": queues,
                "started_at": now,
                "last_seen_at": now,
                "tasks_run": 0,
            },
        )
        self._thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def task_done(self) -> None:
        self.tasks_run += 1

    def beat(self) -> None:
        WorkerHeartbeat.objects.filter(worker_id=self.worker_id).update(
            last_seen_at=timezone.now(), tasks_run=self.tasks_run
        )

    def _beat(self) -> None:
        try:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                self.beat()
        finally:
            # The thread owns its own connection; close it so it is not leaked.
            connection.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=HEARTBEAT_SECONDS)
        WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
