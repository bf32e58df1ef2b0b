from __future__ import annotations

import datetime
from collections.abc import Callable

from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from projects.models import Invitation
from projects.tasks import send_invitation_email
from tests.conftest import World, make_user
from workers.heartbeat import Heartbeat
from workers.models import WorkerHeartbeat


def test_worker_command_runs_queued_tasks_and_reports_heartbeat(world: World, transactional_db: None) -> None:
    invitation = Invitation.objects.create(
        project=world.project, email="a@example.org", expires_at=timezone.now() + datetime.timedelta(days=1)
    )
    send_invitation_email.enqueue(invitation_id=invitation.pk)
    call_command("worker", "--batch", "--no-startup-delay", "--worker-id", "w-test", verbosity=0)
    assert len(mail.outbox) == 1
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert not WorkerHeartbeat.objects.exists()  # removed on a clean exit


def test_withdrawn_invitation_is_not_emailed(world: World, run_tasks: Callable[[], None]) -> None:
    send_invitation_email.enqueue(invitation_id=999_999)
    run_tasks()
    assert mail.outbox == []
    assert DBTaskResult.objects.get().return_value is False


def test_status_page_shows_workers_and_runs_to_staff_only(
    world: World, run_tasks: Callable[[], None]
) -> None:
    heartbeat = Heartbeat(worker_id="w-1", backend="default", queues="default")
    WorkerHeartbeat.objects.create(
        worker_id="w-lost",
        hostname="old-host",
        pid=1,
        backend="default",
        queues="default",
        started_at=timezone.now() - datetime.timedelta(hours=1),
        last_seen_at=timezone.now() - datetime.timedelta(minutes=5),
    )
    send_invitation_email.enqueue(invitation_id=1)
    run_tasks()
    staff = make_user("it-admin")
    staff.is_staff = True
    staff.save()
    client = Client()
    client.force_login(staff)
    page = client.get("/tasks/").content.decode()
    assert "old-host" in page
    assert "lost" in page
    assert "alive" in page
    assert "projects.tasks.send_invitation_email" in page
    assert "successful: 1" in page
    assert world.client("owner").get("/tasks/").status_code == 403
    heartbeat.stop()
    assert not WorkerHeartbeat.objects.filter(worker_id="w-1").exists()


def test_heartbeat_records_progress(db: None) -> None:
    heartbeat = Heartbeat(worker_id="w-beat", backend="default", queues="default")
    first_seen = WorkerHeartbeat.objects.get().last_seen_at
    heartbeat.task_done()
    heartbeat.beat()
    row = WorkerHeartbeat.objects.get()
    assert row.tasks_run == 1
    assert row.last_seen_at > first_seen
    assert row.is_alive
    heartbeat.stop()
    assert not WorkerHeartbeat.objects.exists()
