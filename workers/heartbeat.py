"""Worker heartbeats: each worker process records that it is alive, for the status page."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable

from django.db import DatabaseError, connection
from django.utils import timezone

from workers.models import HEARTBEAT_SECONDS, LOST_AFTER, WorkerHeartbeat

logger = logging.getLogger(__name__)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, but belongs to another user
        return True
    return True


def alive_worker_ids() -> set[str]:
    """Workers that beat recently; on this host, only those whose process still exists,
    so a worker killed here counts as gone at once rather than after LOST_AFTER."""
    here = socket.gethostname()
    recent = WorkerHeartbeat.objects.filter(last_seen_at__gte=timezone.now() - LOST_AFTER)
    return {
        worker_id
        for worker_id, hostname, pid in recent.values_list("worker_id", "hostname", "pid")
        if hostname != here or _process_exists(pid)
    }


class Heartbeat:
    """Writes a WorkerHeartbeat row now and every few seconds until stopped."""

    def __init__(self, *, worker_id: str, backend: str, queues: str) -> None:
        self.worker_id = worker_id
        self.tasks_run = 0
        self._on_beat: Callable[[], None] | None = None
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

    def set_on_beat(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` after every beat, in the heartbeat thread. The Redis worker uses it
        to keep its running job registered and to queue again the jobs of dead workers."""
        self._on_beat = callback

    def task_done(self) -> None:
        self.tasks_run += 1

    def beat(self) -> None:
        WorkerHeartbeat.objects.filter(worker_id=self.worker_id).update(
            last_seen_at=timezone.now(), tasks_run=self.tasks_run
        )

    def _beat(self) -> None:
        try:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                try:
                    self.beat()
                except DatabaseError:
                    # A restarted database drops every connection. Without beats this worker
                    # would look dead and lose its chunks while it runs them; a new connection
                    # on the next beat lets it carry on.
                    logger.warning("Worker %s could not beat; it tries again.", self.worker_id)
                    connection.close()
                    continue
                if self._on_beat is not None:
                    try:
                        self._on_beat()
                    except Exception:
                        # A Redis or database hiccup must not stop the beats that keep this
                        # worker's chunks its own; the next beat tries again.
                        logger.exception("Heartbeat side task of worker %s failed", self.worker_id)
        finally:
            # The thread owns its own connection; close it so it is not leaked.
            connection.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=HEARTBEAT_SECONDS)
        WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
