from __future__ import annotations

from typing import Any

from django.tasks.signals import task_finished
from django_tasks_db.management.commands import db_worker

from workers.heartbeat import Heartbeat


class Command(db_worker.Command):
    help = (
        "Run a background task worker on the database backend and report its heartbeat "
        "to the status page. Start as many as the machine has cores for."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        options["reload"] = False  # a reloading parent would beat for a child it cannot see
        heartbeat = Heartbeat(
            worker_id=options["worker_id"],
            backend=options["backend_name"],
            queues=options["queue_name"],
        )

        def count_task(**_: Any) -> None:
            heartbeat.task_done()

        task_finished.connect(count_task, weak=False)
        heartbeat.start()
        try:
            super().handle(*args, **options)
        finally:
            task_finished.disconnect(count_task)
            heartbeat.stop()
