from __future__ import annotations

import logging
import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError
from django.db import DatabaseError, connection
from django.tasks import (
    DEFAULT_TASK_BACKEND_ALIAS,
    DEFAULT_TASK_QUEUE_NAME,
    TaskResultStatus,
    task_backends,
)
from django.tasks.exceptions import InvalidTaskBackend
from django.tasks.signals import task_finished
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from workers.heartbeat import Heartbeat, alive_worker_ids
from workers.models import WorkerHeartbeat
from workers.rq_backend import RQBackend, queue_names_for, run_worker

_RQ_LOG_LEVELS = {0: "WARNING", 1: "INFO"}
# How long a database worker waits before it tries again after losing its database connection.
RECONNECT_SECONDS = 1.0

logger = logging.getLogger(__name__)


def requeue_lost_tasks(*, backend_name: str) -> list[str]:
    """Queue again the running tasks of workers that stopped beating, as the Redis workers do
    (``rq_backend.requeue_orphans``), so that a task is not left running forever on the status
    page and its code decides what a second attempt does (each task sees its attempts in
    ``worker_ids``). Only workers with a heartbeat row count as ours. Returns the task ids."""
    alive = alive_worker_ids()
    ours = set(WorkerHeartbeat.objects.values_list("worker_id", flat=True))
    running = DBTaskResult.objects.filter(backend_name=backend_name, status=TaskResultStatus.RUNNING)
    requeued: list[str] = []
    for pk, worker_ids, started_at in running.values_list("pk", "worker_ids", "started_at"):
        worker = worker_ids[-1] if worker_ids else ""
        if worker in alive or worker not in ours:
            continue
        # On the attempt seen only: of several sweeping workers one queues it, and a task that
        # another worker has claimed again meanwhile is left alone.
        again = DBTaskResult.objects.filter(pk=pk, status=TaskResultStatus.RUNNING, started_at=started_at)
        if again.update(status=TaskResultStatus.READY):
            logger.warning("Task %s of lost worker %s queued again.", pk, worker)
            requeued.append(str(pk))
    return requeued


class DatabaseWorker(db_worker.Worker):
    """django-tasks-db's worker, made to outlive a database restart.

    Left alone, its process ends at the first query on a dropped connection: when it claims the
    next task, or when it records the failure of a task whose own query met the dropped connection.
    """

    def run(self) -> None:
        while True:
            try:
                super().run()
                return
            except DatabaseError:
                if not self.running:
                    raise
                logger.warning("Worker %s lost its database connection; it reconnects.", self.worker_id)
                connection.close()
                time.sleep(RECONNECT_SECONDS)

    def run_task(self, db_task_result: DBTaskResult) -> None:  # type: ignore[type-arg]
        try:
            super().run_task(db_task_result)
        except DatabaseError as exc:
            # The outcome could not be written on the dropped connection: write it on a new one
            # (the error's traceback holds the task's own error too).
            connection.close()
            db_task_result.set_failed(exc)
            task_finished.send(
                sender=type(db_task_result.task.get_backend()), task_result=db_task_result.task_result
            )


class Command(db_worker.Command):
    help = (
        "Run a background task worker for the configured task backend (the database, or Redis "
        "with FAIRLIGHT_TASK_BACKEND=redis) and report its heartbeat to the status page. "
        "Start as many as the machines have cores for."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        if not isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], RQBackend):
            super().add_arguments(parser)
            return
        # The database worker's options that mean something to an RQ worker, under the same names.
        parser.add_argument(
            "--queue-name",
            default=DEFAULT_TASK_QUEUE_NAME,
            help="The queues to work, comma-separated, or '*' for all (default: %(default)r).",
        )
        parser.add_argument("--batch", action="store_true", help="Run the queued tasks, then exit.")
        parser.add_argument("--max-tasks", type=db_worker.valid_max_tasks, help="Exit after this many tasks.")
        parser.add_argument(
            "--worker-id",
            type=db_worker.validate_worker_id,
            default=get_random_string(32),
            help="Unique name of this worker (default: random).",
        )
        parser.add_argument("--backend", default=DEFAULT_TASK_BACKEND_ALIAS, dest="backend_name")
        parser.add_argument(
            "--no-startup-delay",
            action="store_false",
            dest="startup_delay",
            help="Accepted so that one command line starts either kind of worker: a Redis worker "
            "waits on the queue and never polls, so it has no start-up delay to skip.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            backend = task_backends[options["backend_name"]]
        except InvalidTaskBackend as exc:
            raise CommandError(str(exc)) from None
        if isinstance(backend, RQBackend):
            try:
                queue_names = queue_names_for(backend, options["queue_name"])
            except InvalidTaskBackend as exc:
                raise CommandError(str(exc)) from None
        else:
            options["reload"] = False  # a reloading parent would beat for a child it cannot see
            queue_names = options["queue_name"].split(",")
        heartbeat = Heartbeat(
            worker_id=options["worker_id"], backend=options["backend_name"], queues=",".join(queue_names)
        )

        def count_task(**_: Any) -> None:
            heartbeat.task_done()

        task_finished.connect(count_task, weak=False)
        heartbeat.start()
        try:
            if isinstance(backend, RQBackend):
                run_worker(
                    backend=backend,
                    worker_id=options["worker_id"],
                    queue_names=queue_names,
                    heartbeat=heartbeat,
                    burst=options["batch"],
                    max_tasks=options["max_tasks"],
                    logging_level=_RQ_LOG_LEVELS.get(options["verbosity"], "DEBUG"),
                )
            else:
                self._run_database_worker(options, heartbeat)
        finally:
            task_finished.disconnect(count_task)
            heartbeat.stop()

    def _run_database_worker(self, options: dict[str, Any], heartbeat: Heartbeat) -> None:
        """What django-tasks-db's own command does without --reload, with the worker above, which
        also queues again the tasks of dead workers: when it starts and after every beat."""
        self.configure_logging(options["verbosity"])
        queue_names = options["queue_name"].split(",")
        excluded = options["exclude_queues"].split(",") if options["exclude_queues"] else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = DatabaseWorker(
            queue_names=queue_names,
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=excluded,
        )

        def requeue() -> None:
            requeue_lost_tasks(backend_name=options["backend_name"])

        heartbeat.set_on_beat(requeue)
        requeue()
        worker.configure_signals()
        worker.run()
