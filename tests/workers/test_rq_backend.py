"""The Redis (RQ) task backend: the app's own tasks queued on Redis and run by `manage.py
worker`, results and errors read back through django.tasks, what RQ cannot do refused in
plain words, and the jobs of a dead worker queued again."""

from __future__ import annotations

import datetime
import signal
import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.local import Local
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.tasks import TaskResultStatus, task_backends
from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper
from rq import SimpleWorker
from rq.job import JobStatus
from rq.serializers import JSONSerializer

from fairlight.env import env_redis_url
from metadata.tasks import scan_chunk_task, scan_plan_task
from projects.models import Invitation
from projects.tasks import send_invitation_email
from tests.conftest import World, make_user
from tests.workers.redis_support import REDIS_URL, redis_or_skip, unique_prefix
from workers.heartbeat import Heartbeat
from workers.models import WorkerHeartbeat
from workers.rq_backend import RQBackend, requeue_orphans

WORKER = "w-redis-test"


def _reset_task_backends() -> None:
    # django.tasks caches its TASKS setting and backends; a changed setting needs a fresh start.
    handler: Any = task_backends
    handler.__dict__.pop("settings", None)
    handler._settings = None
    handler._connections = Local(handler.thread_critical)


@pytest.fixture
def redis_backend(settings: SettingsWrapper, transactional_db: None) -> Iterator[RQBackend]:
    """Tasks on Redis under a queue prefix of this test's own. The worker runs in this process;
    its loop closes database connections that are inside a transaction, so the test's data is
    committed (transactional_db) rather than wrapped in one."""
    redis_or_skip()
    prefix = unique_prefix()
    original = settings.TASKS
    settings.TASKS = {
        "default": {
            "BACKEND": "workers.rq_backend.RQBackend",
            "OPTIONS": {"URL": REDIS_URL, "QUEUE_PREFIX": prefix},
        }
    }
    _reset_task_backends()
    # RQ's worker installs its own handlers for a graceful stop; give pytest its own back.
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    backend = task_backends["default"]
    assert isinstance(backend, RQBackend)
    try:
        yield backend
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        backend.purge()
        # The stand-in workers of _start_on() never registered with a queue.
        stand_ins = ("dead-worker", "live-worker", "stranger")
        backend.connection.delete(*(f"rq:worker:{name}" for name in stand_ins))
        settings.TASKS = original
        _reset_task_backends()


def _work() -> None:
    call_command("worker", "--batch", "--worker-id", WORKER, verbosity=0)


def test_app_tasks_run_on_a_redis_worker_with_their_results(world: World, redis_backend: RQBackend) -> None:
    invitation = Invitation.objects.create(
        project=world.project, email="a@example.org", expires_at=timezone.now() + datetime.timedelta(days=1)
    )
    sent = send_invitation_email.enqueue(invitation_id=invitation.pk)
    with_context = scan_chunk_task.enqueue(chunk_id=999_999)  # takes_context; no such chunk
    assert send_invitation_email.get_result(sent.id).status == TaskResultStatus.READY
    assert redis_backend.rq_queue("default").count == 2

    _work()

    result = send_invitation_email.get_result(sent.id)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value is True
    assert result.worker_ids == [WORKER]
    assert result.started_at is not None
    assert result.finished_at is not None
    assert result.finished_at >= result.started_at
    assert len(mail.outbox) == 1
    chunk = scan_chunk_task.get_result(with_context.id)
    assert (chunk.status, chunk.return_value) == (TaskResultStatus.SUCCESSFUL, False)
    assert chunk.worker_ids == [WORKER]
    assert not WorkerHeartbeat.objects.exists()  # the worker removed its heartbeat on a clean exit


def test_a_failing_task_is_reported_with_its_error(redis_backend: RQBackend) -> None:
    failing = scan_plan_task.enqueue(scan_id="not-a-number")  # type: ignore[arg-type]
    after = send_invitation_email.enqueue(invitation_id=1)
    _work()
    result = scan_plan_task.get_result(failing.id)
    assert result.status == TaskResultStatus.FAILED
    assert [error.exception_class for error in result.errors] == [ValueError]
    assert "not-a-number" in result.errors[0].traceback
    with pytest.raises(ValueError, match="Task failed"):
        _ = result.return_value
    # The worker went on with the next task.
    assert send_invitation_email.get_result(after.id).status == TaskResultStatus.SUCCESSFUL


def test_what_rq_cannot_do_is_refused_in_plain_words(redis_backend: RQBackend) -> None:
    with pytest.raises(InvalidTask, match=r"or last \(priority 0\), not at priority 5"):
        send_invitation_email.using(priority=5)
    with pytest.raises(InvalidTask, match="cannot hold a task until a later time"):
        send_invitation_email.using(run_after=timezone.now() + datetime.timedelta(hours=1))
    with pytest.raises(TypeError):
        send_invitation_email.enqueue(invitation_id=object())  # type: ignore[arg-type]
    with pytest.raises(TaskResultDoesNotExist):
        send_invitation_email.get_result("no-such-result")
    assert redis_backend.rq_queue("default").count == 0


def test_priority_100_goes_first(redis_backend: RQBackend) -> None:
    later = send_invitation_email.enqueue(invitation_id=1)
    urgent = send_invitation_email.using(priority=100).enqueue(invitation_id=2)
    assert redis_backend.rq_queue("default").get_job_ids() == [urgent.id, later.id]
    assert send_invitation_email.get_result(urgent.id).task.priority == 100


def _start_on(worker_name: str, backend: RQBackend) -> str:
    """Take the next job off the queue as a worker that starts it (and then may die)."""
    queue = backend.rq_queue("default")
    job = queue.dequeue_any([queue], None, connection=backend.connection, serializer=JSONSerializer)
    assert job is not None
    rq_worker = SimpleWorker(
        [queue], name=worker_name, connection=backend.connection, serializer=JSONSerializer
    )
    rq_worker.prepare_execution(job[0])
    with backend.connection.pipeline() as pipeline:
        job[0].prepare_for_execution(worker_name, pipeline)
        pipeline.execute()
    return str(job[0].id)


def _dead_pid() -> int:
    probe = subprocess.Popen(["true"])
    probe.wait()
    return probe.pid


def test_jobs_of_a_dead_worker_are_queued_again_and_finish(redis_backend: RQBackend) -> None:
    lost = send_invitation_email.enqueue(invitation_id=1)
    busy = send_invitation_email.enqueue(invitation_id=2)
    foreign = send_invitation_email.enqueue(invitation_id=3)
    now = timezone.now()
    here = socket.gethostname()
    WorkerHeartbeat.objects.create(
        worker_id="dead-worker", hostname=here, pid=_dead_pid(), backend="default", queues="default",
        started_at=now, last_seen_at=now,
    )  # fmt: skip
    live = Heartbeat(worker_id="live-worker", backend="default", queues="default")
    assert _start_on("dead-worker", redis_backend) == lost.id
    assert _start_on("live-worker", redis_backend) == busy.id
    assert _start_on("stranger", redis_backend) == foreign.id  # a worker with no heartbeat: not ours

    assert requeue_orphans(backend=redis_backend, queue_names=["default"]) == [lost.id]
    assert requeue_orphans(backend=redis_backend, queue_names=["default"]) == []  # queued once only
    queue = redis_backend.rq_queue("default")
    assert queue.get_job_ids() == [lost.id]
    assert queue.fetch_job(lost.id).get_status() == JobStatus.QUEUED  # type: ignore[union-attr]
    live.stop()

    _work()
    result = send_invitation_email.get_result(lost.id)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.worker_ids == ["dead-worker", WORKER]
    assert [error.exception_class_path for error in result.errors] == ["workers.rq_backend.WorkerLost"]
    assert "dead-worker stopped while running this task" in result.errors[0].traceback


def test_status_page_lists_the_runs_kept_in_redis(redis_backend: RQBackend) -> None:
    send_invitation_email.enqueue(invitation_id=1)
    scan_plan_task.enqueue(scan_id="not-a-number")  # type: ignore[arg-type]
    _work()
    staff = make_user("it-admin")
    staff.is_staff = True
    staff.save()
    client = Client()
    client.force_login(staff)
    page = client.get("/tasks/").content.decode()
    assert "projects.tasks.send_invitation_email" in page
    assert "metadata.tasks.scan_plan_task" in page
    assert "builtins.ValueError" in page
    assert "successful: 1" in page
    assert "failed: 1" in page


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379/0", "redis://host:6379/zero", "127.0.0.1:6379"])
def test_a_malformed_redis_url_stops_start_up(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"FAIRLIGHT_REDIS_URL=.* is not a Redis URL"):
        env_redis_url("FAIRLIGHT_REDIS_URL", "", environ={"FAIRLIGHT_REDIS_URL": url})


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0", "rediss://:secret@redis.example.org:6380/2", "redis://localhost"]
)
def test_redis_urls_are_read(url: str) -> None:
    assert env_redis_url("FAIRLIGHT_REDIS_URL", "", environ={"FAIRLIGHT_REDIS_URL": url}) == url


def test_unknown_queue_is_refused(redis_backend: RQBackend) -> None:
    with pytest.raises(CommandError, match="Unknown queue 'emails'; this backend has default"):
        call_command("worker", "--batch", "--queue-name", "emails", "--worker-id", WORKER, verbosity=0)
