"""Submission tasks: thin wrappers that load by id and call repositories.services, and the
deposit through an archive's API (``RepositoryTarget.submit``), queued and followed here."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.tasks import TaskContext, task
from django.utils import timezone

from accounts.models import User
from repositories import embargo, registry, services
from repositories.models import State, Submission, SubmissionEvent

# Notes of the events that follow a deposit. Its outcome is a state change (or a failure note),
# so the latest event tells whether a deposit is queued or running, or why the last one failed.
DEPOSIT_QUEUED = "Deposit queued."
DEPOSIT_STARTED = "Deposit started."
DEPOSIT_FAILED = "Deposit failed: "
DEPOSIT_LOST = (
    "The worker running the deposit ended before it finished (it was stopped, restarted or ran out "
    "of memory). Look for a draft it may have left in the archive, then deposit again."
)
# A deposit that has not finished after this long is assumed lost (its worker died).
DEPOSIT_TIMEOUT = datetime.timedelta(hours=12)
# Where the archive holds the record already, so a deposit publishes a new version of it.
DEPOSITED = (State.ACCESSIONED, State.EMBARGOED, State.PUBLIC)


@task(takes_context=True)
def package_build_task(context: TaskContext[Any, Any], *, submission_id: int) -> str:
    if len(context.task_result.worker_ids) > 1:
        # Delivered again because the worker building the package died (workers queue the tasks
        # of dead workers again): the submission shows the build as failed instead of building.
        services.package_build_lost(submission_id=submission_id)
        return ""
    submission = services.package_build(submission_id=submission_id)
    return submission.package_path if submission is not None else ""


@dataclass(frozen=True)
class DepositStatus:
    running_since: datetime.datetime | None  # when the running (or queued) deposit was queued
    error: str  # why the last deposit failed, when nothing happened since


def deposit_status(submission: Submission) -> DepositStatus:
    last = submission.events.order_by("-at", "-pk").first()
    if last is None:
        return DepositStatus(None, "")
    if last.note in (DEPOSIT_QUEUED, DEPOSIT_STARTED) and timezone.now() - last.at < DEPOSIT_TIMEOUT:
        queued = submission.events.filter(note=DEPOSIT_QUEUED).order_by("-at", "-pk").first()
        return DepositStatus(queued.at if queued is not None else last.at, "")
    if last.note.startswith(DEPOSIT_FAILED):
        return DepositStatus(None, last.note.removeprefix(DEPOSIT_FAILED))
    return DepositStatus(None, "")


def deposit_possible(submission: Submission) -> bool:
    """The archive takes deposits through its API, and the submission is ready for one."""
    if not registry.is_available(submission.target) or not registry.target_for(submission.target).can_submit:
        return False
    return submission.state == State.PACKAGED or (
        submission.state in DEPOSITED and bool(submission.accession)
    )


def _note(submission: Submission, note: str, user: User | None = None) -> None:
    submission.refresh_from_db(fields=["state"])
    SubmissionEvent.objects.create(
        submission=submission, from_state=submission.state, to_state=submission.state, user=user, note=note
    )


def submission_deposit_start(*, submission: Submission, user: User | None) -> None:
    """Queue the deposit: a packaged submission is published, one the archive holds gets a new version."""
    target = registry.target_for(submission.target)
    if not target.can_submit:
        raise ValidationError(
            f"FAIRlight cannot deposit to {target.label_in_text} directly; "
            "follow the next steps on the submission page."
        )
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        if not deposit_possible(locked):
            raise ValidationError(
                "Build the package first: a packaged submission is deposited, and one the archive holds "
                "already gets a new version."
            )
        running = deposit_status(locked).running_since
        if running is not None:
            raise ValidationError(f"A deposit is already queued or running (since {running:%Y-%m-%d %H:%M}).")
        _note(locked, DEPOSIT_QUEUED, user)
        transaction.on_commit(lambda: submission_deposit_task.enqueue(submission_id=locked.pk))
    submission.refresh_from_db()


@task(takes_context=True)
def submission_deposit_task(context: TaskContext[Any, Any], *, submission_id: int) -> str:
    """Run the archive's ``submit``; a failure is recorded with its message and the state kept."""
    submission = Submission.objects.select_related("project").filter(pk=submission_id).first()
    if submission is None or deposit_status(submission).running_since is None:
        return ""  # withdrawn, sent back to draft or deposited meanwhile
    if len(context.task_result.worker_ids) > 1:
        # Delivered again because its worker died: the archive may hold a half-made draft now,
        # which a second deposit would duplicate, so a person looks first.
        _note(submission, DEPOSIT_FAILED + DEPOSIT_LOST)
        return ""
    _note(submission, DEPOSIT_STARTED)
    try:
        return registry.target_for(submission.target).submit(submission)
    except Exception as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else f"{type(exc).__name__}: {exc}"
        _note(submission, DEPOSIT_FAILED + text)
        raise


@task()
def send_embargo_reminder(*, reminder_id: int) -> bool:
    """Email a claimed embargo reminder; False when it was sent already or no longer applies."""
    return embargo.reminder_send(reminder_id=reminder_id)
