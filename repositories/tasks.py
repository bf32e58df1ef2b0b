"""Submission tasks: thin wrappers that load by id and call repositories.services, and the
deposit through an archive's API (``RepositoryTarget.submit``), queued and followed here."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.tasks import TaskContext, task
from django.utils import timezone

from accounts.models import User
from repositories import embargo, registry, services
from repositories.models import ACCESSIONED_STATES, State, Submission, SubmissionEvent

# Notes of the events that follow a deposit. Its outcome is a state change (or a failure note),
# so the latest event tells whether a deposit is queued or running, or why the last one failed.
DEPOSIT_QUEUED = "Deposit queued."
DEPOSIT_STARTED = "Deposit started."
DEPOSIT_FAILED = "Deposit failed: "
DEPOSIT_LOST = (
    "The worker running the deposit ended before it finished (it was stopped, restarted or ran out "
    "of memory). Look for a draft it may have left in the archive, then deposit again."
)
# Notes of the events that follow sending a changed release date to the archive.
RELEASE_QUEUED = "Release date update queued."
RELEASE_STARTED = "Release date update started."
RELEASE_FAILED = "Release date update failed: "
# A deposit that has not finished after this long is assumed lost (its worker died).
DEPOSIT_TIMEOUT = datetime.timedelta(hours=12)


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


def _status(submission: Submission, queued_note: str, started_note: str, failed_prefix: str) -> DepositStatus:
    """Whether a task that notes its progress in the submission's history is queued or running,
    or why it last failed: the latest event tells, as the task's outcome is an event too."""
    last = submission.events.order_by("-at", "-pk").first()
    if last is None:
        return DepositStatus(None, "")
    if last.note in (queued_note, started_note) and timezone.now() - last.at < DEPOSIT_TIMEOUT:
        queued = submission.events.filter(note=queued_note).order_by("-at", "-pk").first()
        return DepositStatus(queued.at if queued is not None else last.at, "")
    if last.note.startswith(failed_prefix):
        return DepositStatus(None, last.note.removeprefix(failed_prefix))
    return DepositStatus(None, "")


def deposit_status(submission: Submission) -> DepositStatus:
    return _status(submission, DEPOSIT_QUEUED, DEPOSIT_STARTED, DEPOSIT_FAILED)


def release_status(submission: Submission) -> DepositStatus:
    """Whether the changed release date is on its way to the archive, or why it did not get there."""
    return _status(submission, RELEASE_QUEUED, RELEASE_STARTED, RELEASE_FAILED)


def release_update_possible(submission: Submission) -> bool:
    """FAIRlight set the record's access through the archive's API, so it can set it again."""
    return (
        registry.is_available(submission.target)
        and registry.target_for(submission.target).can_update_release
        and submission.state in ACCESSIONED_STATES
        and submission.state != State.PUBLIC
        and bool(submission.accession)
        and submission.archive_access_set_at is not None
    )


def deposit_possible(submission: Submission) -> bool:
    """The archive takes deposits through its API, and the submission is ready for one."""
    if not registry.is_available(submission.target) or not registry.target_for(submission.target).can_submit:
        return False
    return submission.state == State.PACKAGED or (
        submission.state in ACCESSIONED_STATES and bool(submission.accession)
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
    target = registry.target_for(submission.target)
    return _noted(submission, DEPOSIT_STARTED, DEPOSIT_FAILED, lambda: target.submit(submission))


def _noted(submission: Submission, started_note: str, failed_prefix: str, call: Callable[[], str]) -> str:
    """Run an archive call, noting in the submission's history that it started and, if it fails,
    why (the error is raised again, so the task's result shows it too)."""
    _note(submission, started_note)
    try:
        return call()
    except Exception as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else f"{type(exc).__name__}: {exc}"
        _note(submission, failed_prefix + text)
        raise


@dataclass(frozen=True)
class ArchiveRelease:
    """What the archive holds for a record whose access FAIRlight sets through its API."""

    archive_date: datetime.date | None  # files restricted until then; None: public
    set_at: datetime.datetime
    in_step: bool  # the archive releases the files when the submission says
    running_since: datetime.datetime | None  # an update is queued or running
    error: str  # why the last update failed


def archive_release(submission: Submission, *, now: datetime.datetime) -> ArchiveRelease | None:
    """None where FAIRlight never set the record's access at the archive (deposits by hand)."""
    if submission.archive_access_set_at is None or submission.state not in ACCESSIONED_STATES:
        return None
    zone = submission.project.time_zone

    def restricted_until(day: datetime.date | None) -> datetime.date | None:
        return day if day is not None and not embargo.is_due(day, zone, now) else None

    status = release_status(submission)
    return ArchiveRelease(
        archive_date=submission.archive_release_date,
        set_at=submission.archive_access_set_at,
        in_step=restricted_until(submission.release_date)
        == restricted_until(submission.archive_release_date),
        running_since=status.running_since,
        error=status.error,
    )


def release_update_start(*, submission: Submission, user: User | None) -> bool:
    """Queue sending the submission's release date to the archive; False where FAIRlight does
    not manage the record's access there (deposited by hand), which is not an error."""
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        if not release_update_possible(locked):
            return False
        _note(locked, RELEASE_QUEUED, user)
        transaction.on_commit(lambda: release_update_task.enqueue(submission_id=locked.pk))
    return True


@task()
def release_update_task(*, submission_id: int) -> str:
    """Send the release date, as it is when the task runs, to the archive; a failure is recorded
    with its message. Sending it twice (two quick changes, or a worker died and the task runs
    again) sets the same access twice, which is harmless."""
    submission = Submission.objects.select_related("project").filter(pk=submission_id).first()
    if submission is None or not release_update_possible(submission):
        return ""  # withdrawn, or released meanwhile
    target = registry.target_for(submission.target)
    return _noted(submission, RELEASE_STARTED, RELEASE_FAILED, lambda: target.update_release(submission))


def releases_to_confirm(*, now: datetime.datetime) -> list[int]:
    """Embargoed submissions whose release date at the archive has come, where FAIRlight set
    that date through the archive's API and so can read whether the files are public now."""
    candidates = Submission.objects.filter(
        state=State.EMBARGOED, archive_access_set_at__isnull=False, archive_release_date__isnull=False
    ).select_related("project")
    return [
        submission.pk
        for submission in candidates
        if registry.is_available(submission.target)
        and registry.target_for(submission.target).can_update_release
        and submission.archive_release_date is not None
        and embargo.is_due(submission.archive_release_date, submission.project.time_zone, now)
    ]


def release_checks_queue(*, now: datetime.datetime | None = None) -> int:
    """Queue a check of each record whose release date has come (run by ``embargo_sweep``)."""
    due = releases_to_confirm(now=now or timezone.now())
    for pk in due:
        release_check_task.enqueue(submission_id=pk)
    return len(due)


@task()
def release_check_task(*, submission_id: int) -> bool:
    """Mark the submission public if the archive shows its files to everyone now; a failure to
    ask is the task's error, and the next sweep asks again."""
    submission = Submission.objects.select_related("project").filter(pk=submission_id).first()
    if submission is None or submission.state != State.EMBARGOED:
        return False
    return registry.target_for(submission.target).confirm_release(submission)


@task()
def send_embargo_reminder(*, reminder_id: int) -> bool:
    """Email a claimed embargo reminder; False when it was sent already or no longer applies."""
    return embargo.reminder_send(reminder_id=reminder_id)
