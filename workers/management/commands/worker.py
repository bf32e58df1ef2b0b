from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME, task_backends
from django.tasks.exceptions import InvalidTaskBackend
from django.tasks.signals import task_finished
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands import db_worker

from workers.heartbeat import Heartbeat
from workers.rq_backend import RQBackend, queue_names_for, run_worker

_RQ_LOG_LEVELS = {0: "WARNING", 1: "INFO"}


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
                super().handle(*args, **options)
        finally:
            task_finished.disconnect(count_task)
            heartbeat.stop()
