"""django.tasks on Redis through RQ, for sites that run workers on several machines.

Chosen with ``FAIRLIGHT_TASK_BACKEND=redis``. The task code is the same as on the database
backend: ``enqueue`` puts one RQ job per task on a Redis list, and the job runs
:func:`run_task`, which imports the task by its module path and calls it, with a
``TaskContext`` when the task asks for one. Why our own adapter rather than django-tasks-rq
is explained in ARCHITECTURE.md ("Background work").

Workers are ``manage.py worker`` processes running :func:`run_worker`: an RQ ``SimpleWorker``
(the job runs in the worker process itself, as on the database backend, so killing the worker
kills its job) that beats like every FAIRlight worker. From its heartbeat thread it keeps its
running job registered and puts back on the queue the jobs of workers that died, so a task
interrupted by a killed worker runs again on another one; tasks are idempotent functions of
ids, which makes that safe.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from traceback import format_exception
from typing import Any, ParamSpec, TypeVar

from django.db import close_old_connections
from django.tasks import Task, TaskContext, TaskResult, TaskResultStatus, task_backends
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.base import DEFAULT_TASK_PRIORITY, TASK_MAX_PRIORITY, TaskError
from django.tasks.exceptions import InvalidTask, InvalidTaskBackend, TaskResultDoesNotExist
from django.tasks.signals import task_enqueued, task_finished, task_started
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.json import normalize_json
from django.utils.module_loading import import_string
from redis import Redis
from rq import Queue, SimpleWorker
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus, get_current_job
from rq.serializers import JSONSerializer
from rq.utils import current_timestamp

from workers.heartbeat import Heartbeat, alive_worker_ids
from workers.models import WorkerHeartbeat

logger = logging.getLogger(__name__)
_P = ParamSpec("_P")
_R = TypeVar("_R")

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# What RQ imports and calls for every job; the task itself travels as its module path.
RUNNER = "workers.rq_backend.run_task"
# Finished and failed jobs stay in Redis this long, for get_result() and the status page.
RESULT_TTL = 7 * 24 * 3600
# A running job whose worker stops beating drops out of RQ's started-job registry after this
# long; the heartbeat thread refreshes it every few seconds, so only dead workers lose jobs.
KEEPALIVE_TTL = 120

_STATUS = {
    JobStatus.CREATED: TaskResultStatus.READY,
    JobStatus.QUEUED: TaskResultStatus.READY,
    JobStatus.DEFERRED: TaskResultStatus.READY,
    JobStatus.SCHEDULED: TaskResultStatus.READY,
    JobStatus.STARTED: TaskResultStatus.RUNNING,
    JobStatus.FINISHED: TaskResultStatus.SUCCESSFUL,
    JobStatus.FAILED: TaskResultStatus.FAILED,
    JobStatus.STOPPED: TaskResultStatus.FAILED,
    JobStatus.CANCELED: TaskResultStatus.FAILED,
}


class WorkerLost(Exception):
    """Recorded as a task's error when its worker died and the task was queued again."""


class RQBackend(BaseTaskBackend):
    """A django.tasks backend that queues tasks on Redis for RQ workers.

    OPTIONS: ``URL`` (redis://host:port/db), ``QUEUE_PREFIX`` (RQ queue names are
    ``PREFIX:QUEUE``, so several sites or test runs can share one Redis) and ``RESULT_TTL``.
    """

    supports_async_task = True
    supports_get_result = True
    # RQ runs a queue in order; a task can only be put first (priority 100) or last (0).
    supports_priority = True
    # Deferred jobs need RQ's scheduler process; nothing in FAIRlight defers a task.
    supports_defer = False

    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        super().__init__(alias, params)
        self.url = str(self.options.get("URL", DEFAULT_REDIS_URL))
        self.queue_prefix = str(self.options.get("QUEUE_PREFIX", "fairlight"))
        self.result_ttl = int(self.options.get("RESULT_TTL", RESULT_TTL))

    @cached_property
    def connection(self) -> Redis:
        return Redis.from_url(self.url)

    def rq_queue(self, queue_name: str) -> Queue:
        return Queue(
            f"{self.queue_prefix}:{queue_name}", connection=self.connection, serializer=JSONSerializer
        )

    def validate_task(self, task: Task[..., Any]) -> None:
        if task.run_after is not None:
            raise InvalidTask(
                "The Redis task backend cannot hold a task until a later time (run_after); "
                "queue it when it is due instead."
            )
        super().validate_task(task)
        if task.priority not in (DEFAULT_TASK_PRIORITY, TASK_MAX_PRIORITY):
            raise InvalidTask(
                f"The Redis task backend runs tasks in the order they were queued: it can put a task "
                f"first (priority {TASK_MAX_PRIORITY}) or last (priority {DEFAULT_TASK_PRIORITY}), "
                f"not at priority {task.priority}."
            )

    def enqueue(self, task: Task[_P, _R], args: list[Any], kwargs: dict[str, Any]) -> TaskResult[_P, _R]:
        self.validate_task(task)
        # TaskResult turns the arguments into JSON values, or refuses what JSON cannot hold.
        result: TaskResult[_P, _R] = TaskResult(
            task=task,
            id=get_random_string(32),
            status=TaskResultStatus.READY,
            enqueued_at=None,
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=list(args),
            kwargs=dict(kwargs),
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        queue = self.rq_queue(task.queue_name)
        job = queue.create_job(
            RUNNER,
            kwargs={"task_path": task.module_path, "args": result.args, "kwargs": result.kwargs},
            job_id=result.id,
            timeout=-1,  # like the database backend: a scan chunk takes as long as its files do
            result_ttl=self.result_ttl,
            failure_ttl=self.result_ttl,
            description=task.module_path,
            meta={
                "backend": self.alias,
                "queue_name": task.queue_name,
                "priority": task.priority,
                "worker_ids": [],
                "errors": [],
            },
        )
        job = queue.enqueue_job(job, at_front=task.priority == TASK_MAX_PRIORITY)
        object.__setattr__(result, "enqueued_at", job.enqueued_at)
        task_enqueued.send(type(self), task_result=result)
        return result

    def get_result(self, result_id: str) -> TaskResult[..., Any]:
        try:
            job = Job.fetch(result_id, connection=self.connection, serializer=JSONSerializer)
        except NoSuchJobError:
            raise TaskResultDoesNotExist(result_id) from None
        if job.func_name != RUNNER:
            raise TaskResultDoesNotExist(result_id)
        return self.result_from_job(job)

    def result_from_job(self, job: Job) -> TaskResult[..., Any]:
        meta = job.meta
        task = _load_task(job.kwargs["task_path"]).using(
            queue_name=meta["queue_name"], priority=meta["priority"], backend=self.alias
        )
        status = _STATUS[job.get_status(refresh=False) or JobStatus.QUEUED]
        result: TaskResult[..., Any] = TaskResult(
            task=task,
            id=job.id,
            status=status,
            enqueued_at=job.enqueued_at,
            started_at=job.started_at,
            last_attempted_at=job.started_at,
            finished_at=job.ended_at,
            args=job.kwargs["args"],
            kwargs=job.kwargs["kwargs"],
            backend=self.alias,
            errors=[TaskError(**error) for error in meta.get("errors", [])],
            worker_ids=list(meta.get("worker_ids", [])),
        )
        if status == TaskResultStatus.SUCCESSFUL:
            object.__setattr__(result, "_return_value", job.return_value())
        return result

    def recent_runs(self, *, limit: int) -> list[TaskRun]:
        """The latest task runs of every queue, newest first, for the status page."""
        jobs: list[Job] = []
        for queue_name in sorted(self.queues):
            queue = self.rq_queue(queue_name)
            ids = [
                *queue.get_job_ids(0, limit),
                *queue.started_job_registry.get_job_ids(0, limit - 1, cleanup=False),
                *queue.finished_job_registry.get_job_ids(0, limit - 1, desc=True, cleanup=False),
                *queue.failed_job_registry.get_job_ids(0, limit - 1, desc=True, cleanup=False),
            ]
            jobs.extend(job for job in Job.fetch_many(ids, self.connection, JSONSerializer) if job)
        runs = [TaskRun.from_result(self.result_from_job(job)) for job in jobs if job.func_name == RUNNER]
        runs.sort(key=lambda run: run.enqueued_at or timezone.now(), reverse=True)
        return runs[:limit]

    def status_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for queue_name in sorted(self.queues):
            queue = self.rq_queue(queue_name)
            for status, count in (
                (TaskResultStatus.READY, queue.count),
                (TaskResultStatus.RUNNING, queue.started_job_registry.get_job_count(cleanup=False)),
                (TaskResultStatus.SUCCESSFUL, queue.finished_job_registry.get_job_count(cleanup=False)),
                (TaskResultStatus.FAILED, queue.failed_job_registry.get_job_count(cleanup=False)),
            ):
                if count:
                    counts[status.value] = counts.get(status.value, 0) + count
        return counts

    def purge(self) -> None:
        """Delete this backend's queues, their registries, every job they hold and the records
        of the workers that served them: everything under QUEUE_PREFIX, for test and benchmark
        runs that share a Redis server."""
        redis = self.connection
        job_ids: set[str] = set()
        worker_keys: set[str] = set()
        for key in map(_text, list(redis.scan_iter(match=f"rq:*:{self.queue_prefix}:*", count=1000))):
            kind = _text(redis.type(key))
            if key.startswith("rq:workers:"):
                worker_keys.update(map(_text, redis.smembers(key)))
            elif kind == "list":
                job_ids.update(map(_text, redis.lrange(key, 0, -1)))
            elif kind == "zset":  # registries; the started one holds job_id:execution_id
                job_ids.update(_text(member).split(":")[0] for member in redis.zrange(key, 0, -1))
            redis.delete(key)
        for job_id in job_ids:
            for key in list(redis.scan_iter(match=f"rq:*{job_id}*", count=1000)):
                redis.delete(key)
        for key in map(_text, list(redis.scan_iter(match="rq:worker:*", count=1000))):
            # Stopped workers have left their queues' sets but keep their record a minute.
            if f"{self.queue_prefix}:" in _text(redis.hget(key, "queues") or b""):
                worker_keys.add(key)
        for worker_key in worker_keys:
            redis.delete(worker_key)
            redis.srem("rq:workers", worker_key)
        for queue_key in map(_text, redis.smembers("rq:queues")):
            if queue_key.startswith(f"rq:queue:{self.queue_prefix}:"):
                redis.srem("rq:queues", queue_key)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class TaskRun:
    """One row of the status page, with the field names of django-tasks-db's result rows."""

    task_path: str
    status: str
    enqueued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    exception_class_path: str

    @classmethod
    def from_result(cls, result: TaskResult[..., Any]) -> TaskRun:
        return cls(
            task_path=result.task.module_path,
            status=result.status.value,
            enqueued_at=result.enqueued_at,
            started_at=result.started_at,
            finished_at=result.finished_at,
            exception_class_path=result.errors[-1].exception_class_path if result.errors else "",
        )


def _load_task(task_path: str) -> Task[..., Any]:
    task = import_string(task_path)
    if not isinstance(task, Task):
        raise InvalidTask(f"{task_path!r} is not a task (a function decorated with @task).")
    return task


def run_task(*, task_path: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """Run one queued task inside an RQ worker; what every job of this backend calls."""
    job = get_current_job()
    if job is None:
        raise RuntimeError("run_task runs inside an RQ worker started by `manage.py worker`.")
    backend = task_backends[job.meta["backend"]]
    if not isinstance(backend, RQBackend):
        raise InvalidTaskBackend(
            f"Task backend {job.meta['backend']!r} is not the Redis backend; "
            "check FAIRLIGHT_TASK_BACKEND on this worker."
        )
    task = _load_task(task_path)
    job.meta["worker_ids"].append(job.worker_name or "")
    job.save_meta()  # type: ignore[no-untyped-call]
    result = backend.result_from_job(job)
    task_started.send(type(backend), task_result=result)
    try:
        if task.takes_context:
            value = task.call(TaskContext(task_result=result), *args, **kwargs)
        else:
            value = task.call(*args, **kwargs)
        value = normalize_json(value)
    except BaseException as exc:
        error = TaskError(
            exception_class_path=f"{type(exc).__module__}.{type(exc).__qualname__}",
            traceback="".join(format_exception(exc)),
        )
        job.meta["errors"].append(
            {"exception_class_path": error.exception_class_path, "traceback": error.traceback}
        )
        job.save_meta()  # type: ignore[no-untyped-call]
        result.errors.append(error)
        object.__setattr__(result, "status", TaskResultStatus.FAILED)
        object.__setattr__(result, "finished_at", timezone.now())
        task_finished.send(type(backend), task_result=result)
        raise
    object.__setattr__(result, "status", TaskResultStatus.SUCCESSFUL)
    object.__setattr__(result, "finished_at", timezone.now())
    object.__setattr__(result, "_return_value", value)
    task_finished.send(type(backend), task_result=result)
    return value


class _Worker(SimpleWorker):
    """RQ's in-process worker, closing stale database connections around each job as
    Django's request cycle and the database worker do."""

    current_queue: Queue | None = None

    def execute_job(self, job: Job, queue: Queue) -> None:
        self.current_queue = queue
        close_old_connections()
        try:
            super().execute_job(job, queue)
        finally:
            self.current_queue = None
            close_old_connections()

    def get_heartbeat_ttl(self, job: Job) -> int:
        return KEEPALIVE_TTL


def _keep_running_job_registered(worker: _Worker) -> None:
    execution, queue = worker.execution, worker.current_queue
    if execution is None or queue is None:
        return
    expires = current_timestamp() + KEEPALIVE_TTL
    with worker.connection.pipeline() as pipeline:
        # xx: never add back an entry the job's end has just removed.
        pipeline.zadd(queue.started_job_registry.key, {execution.composite_key: expires}, xx=True)
        pipeline.expire(execution.key, KEEPALIVE_TTL)
        pipeline.expire(worker.key, KEEPALIVE_TTL)
        pipeline.execute()


def requeue_orphans(*, backend: RQBackend, queue_names: Iterable[str]) -> list[str]:
    """Queue again, first in line, the running jobs of FAIRlight workers that stopped beating.

    Only workers with a heartbeat row count as ours: a job held by a worker this site does
    not know is left alone. Removing the job from the started registry is the claim, so when
    several workers sweep at once exactly one of them queues it again. Returns the job ids.
    """
    alive = alive_worker_ids()
    ours = set(WorkerHeartbeat.objects.values_list("worker_id", flat=True))
    requeued: list[str] = []
    for queue_name in queue_names:
        queue = backend.rq_queue(queue_name)
        registry = queue.started_job_registry
        for job_id, execution_id in registry.get_job_and_execution_ids(cleanup=False):
            job = queue.fetch_job(job_id)
            if job is None:
                continue
            worker = job.worker_name or ""
            if worker in alive or worker not in ours:
                continue
            if not backend.connection.zrem(registry.key, f"{job_id}:{execution_id}"):
                continue
            attempts = job.meta.setdefault("worker_ids", [])
            if not attempts or attempts[-1] != worker:  # it may have died before run_task began
                attempts.append(worker)
            job.meta.setdefault("errors", []).append(
                {
                    "exception_class_path": f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
                    "traceback": f"Worker {worker} stopped while running this task; it was queued again.",
                }
            )
            job.started_at = None
            job.ended_at = None
            queue.enqueue_job(job, at_front=True)
            logger.warning("Task %s of lost worker %s queued again.", job_id, worker)
            requeued.append(job_id)
    return requeued


def queue_names_for(backend: RQBackend, requested: str) -> list[str]:
    """The queues named on the command line (comma-separated, ``*`` for all of them)."""
    if requested == "*":
        return sorted(backend.queues)
    names = [name.strip() for name in requested.split(",")]
    unknown = [name for name in names if name not in backend.queues]
    if unknown or not all(names):
        raise InvalidTaskBackend(
            f"Unknown queue {', '.join(map(repr, unknown)) or repr('')}; this backend has "
            f"{', '.join(sorted(backend.queues))}."
        )
    return names


def run_worker(
    *,
    backend: RQBackend,
    worker_id: str,
    queue_names: list[str],
    heartbeat: Heartbeat,
    burst: bool,
    max_tasks: int | None,
    logging_level: str,
) -> None:
    """Work the queues until stopped (or, with ``burst``, until they are empty)."""
    worker = _Worker(
        [backend.rq_queue(name) for name in queue_names],
        name=worker_id,
        connection=backend.connection,
        serializer=JSONSerializer,
    )

    def on_beat() -> None:
        _keep_running_job_registered(worker)
        requeue_orphans(backend=backend, queue_names=queue_names)

    heartbeat.set_on_beat(on_beat)
    # Jobs of workers that died while this one was down are picked up at once.
    requeue_orphans(backend=backend, queue_names=queue_names)
    worker.work(burst=burst, max_jobs=max_tasks, logging_level=logging_level)
