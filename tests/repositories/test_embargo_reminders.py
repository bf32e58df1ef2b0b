"""Embargo reminders with a controlled clock: each offset once, never early, never for withdrawn or
public submissions, re-armed by a new release date; the "paper is out" reminder; the sweep."""

from __future__ import annotations

import datetime
import io
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from projects.models import Membership, Project, Role
from repositories import embargo
from repositories.embargo import (
    EmbargoState,
    embargo_sweep,
    release_instant,
    reminder_claim,
    reminder_send,
    reminders_due,
)
from repositories.models import ReminderKind, ReminderSent, State, Submission
from tests.conftest import World

OnCommit = Callable[..., Any]
MINUTE = datetime.timedelta(minutes=1)
OFFSETS = (30, 7, 1)
ZONE = "Europe/Berlin"


def last_sunday_of_march(year: int) -> datetime.date:
    """Europe's clocks go forward in the night to this day."""
    day = datetime.date(year, 3, 31)
    return day - datetime.timedelta(days=(day.weekday() + 1) % 7)


# Two years ahead, so that the services' own checks (not in the past, not too far) accept it.
RELEASE = last_sunday_of_march(timezone.now().year + 2)


def tracked(
    project: Project,
    *,
    release: datetime.date | None,
    state: str = State.EMBARGOED,
    title: str = "Neurons",
    accession: str = "",
) -> Submission:
    return Submission.objects.create(
        project=project, target="bia", title=title, state=state, release_date=release, accession=accession
    )


@pytest.fixture
def berlin(world: World) -> Project:
    Project.objects.filter(pk=world.project.pk).update(time_zone=ZONE)
    world.project.refresh_from_db()
    return world.project


def starts(release: datetime.date) -> dict[int, datetime.datetime]:
    """When each offset's day begins in Berlin."""
    return {days: release_instant(release - datetime.timedelta(days=days), ZONE) for days in OFFSETS}


def claimed() -> list[tuple[int, datetime.date | None, datetime.datetime]]:
    return [
        (r.offset_days, r.release_date, r.claimed_at)
        for r in ReminderSent.objects.filter(kind=ReminderKind.BEFORE_RELEASE).order_by("claimed_at", "pk")
    ]


def test_reminders_are_claimed_once_each_at_local_midnight_of_their_day(berlin: Project) -> None:
    tracked(berlin, release=RELEASE, accession="S-BIAD1")
    day_starts = starts(RELEASE)
    end = release_instant(RELEASE, ZONE) + datetime.timedelta(days=2)
    clock = day_starts[30] - datetime.timedelta(days=2)
    instants = {*day_starts.values(), *(t - MINUTE for t in day_starts.values())}
    while clock < end:
        instants.add(clock)
        clock += datetime.timedelta(hours=7)
    for now in sorted(instants):
        embargo_sweep(now=now, offsets=OFFSETS)
        embargo_sweep(now=now, offsets=OFFSETS)  # a second run changes nothing
    assert claimed() == [(days, RELEASE, day_starts[days]) for days in OFFSETS]


def test_a_late_date_gets_only_the_reminder_that_still_makes_sense(berlin: Project) -> None:
    tracked(berlin, release=RELEASE)
    five_days_before = release_instant(RELEASE - datetime.timedelta(days=5), ZONE)
    embargo_sweep(now=five_days_before, offsets=OFFSETS)
    assert claimed() == [(7, RELEASE, five_days_before)]
    embargo_sweep(now=release_instant(RELEASE, ZONE) - MINUTE, offsets=OFFSETS)
    assert [row[0] for row in claimed()] == [7, 1]
    embargo_sweep(now=release_instant(RELEASE, ZONE), offsets=OFFSETS)
    assert len(claimed()) == 2  # nothing once the release is due


@pytest.mark.parametrize("state", [State.WITHDRAWN, State.PUBLIC])
def test_no_reminders_for_withdrawn_or_public_submissions(berlin: Project, state: str) -> None:
    tracked(berlin, release=RELEASE, state=state)
    for days in OFFSETS:
        embargo_sweep(now=starts(RELEASE)[days], offsets=OFFSETS)
    assert claimed() == []


def test_the_workers_email_owners_and_managers_once(
    world: World, run_tasks: Callable[[], None], django_capture_on_commit_callbacks: OnCommit
) -> None:
    # The worker judges with the real clock, so this release date is a real one.
    release = timezone.localdate(timezone=datetime.UTC) + datetime.timedelta(days=7)
    submission = tracked(world.project, release=release, title="Zebrafish, neurons; 3D", accession="S-BIAD7")
    with django_capture_on_commit_callbacks(execute=True):
        assert embargo_sweep(offsets=OFFSETS).queued == 1
    assert mail.outbox == []  # sent by the worker, not by the sweep
    run_tasks()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["manager@example.org", "owner@example.org"]
    assert message.subject == f"“Zebrafish, neurons; 3D” becomes public in 7 days ({release:%Y-%m-%d})"
    body = str(message.body)
    assert f"http://127.0.0.1:8000/submissions/{submission.pk}/" in body
    assert "S-BIAD7" in body
    reminder = ReminderSent.objects.get()
    assert reminder.sent_at is not None
    assert reminder.recipients == "manager@example.org, owner@example.org"
    with django_capture_on_commit_callbacks(execute=True):
        assert embargo_sweep(offsets=OFFSETS).queued == 0
    run_tasks()
    assert len(mail.outbox) == 1


def test_a_reminder_delivered_twice_is_sent_once(berlin: Project) -> None:
    tracked(berlin, release=RELEASE)
    now = starts(RELEASE)[7]
    embargo_sweep(now=now, offsets=OFFSETS)
    reminder = ReminderSent.objects.get()
    assert reminder_send(reminder_id=reminder.pk, now=now) is True
    assert reminder_send(reminder_id=reminder.pk, now=now) is False
    assert len(mail.outbox) == 1
    assert "in 7 days" in mail.outbox[0].subject


def test_a_submission_withdrawn_after_the_claim_is_not_reminded(berlin: Project) -> None:
    submission = tracked(berlin, release=RELEASE)
    now = starts(RELEASE)[7]
    embargo_sweep(now=now, offsets=OFFSETS)
    Submission.objects.filter(pk=submission.pk).update(state=State.WITHDRAWN)
    reminder = ReminderSent.objects.get()
    assert reminder_send(reminder_id=reminder.pk, now=now) is False
    reminder.refresh_from_db()
    assert (reminder.sent_at, reminder.skipped_reason) == (None, "The submission is withdrawn.")
    assert mail.outbox == []


def test_a_project_without_addresses_skips_with_a_reason(berlin: Project, world: World) -> None:
    Membership.objects.filter(project=berlin, role__in=[Role.OWNER, Role.MANAGER]).delete()
    tracked(berlin, release=RELEASE)
    embargo_sweep(now=starts(RELEASE)[1], offsets=OFFSETS)
    reminder = ReminderSent.objects.get()
    assert reminder_send(reminder_id=reminder.pk, now=starts(RELEASE)[1]) is False
    reminder.refresh_from_db()
    assert reminder.skipped_reason == "No owner or manager of the project has an email address."


def test_a_new_release_date_re_arms_the_reminders(berlin: Project, world: World) -> None:
    submission = tracked(berlin, release=RELEASE)
    day_starts = starts(RELEASE)
    embargo_sweep(now=day_starts[30], offsets=OFFSETS)
    embargo_sweep(now=day_starts[7], offsets=OFFSETS)
    pending = ReminderSent.objects.get(offset_days=7)
    later = RELEASE + datetime.timedelta(days=20)
    embargo.embargo_change(
        submission=submission, user=world.users["manager"], new_date=later, reason="Paper delayed."
    )
    now = day_starts[7] + datetime.timedelta(hours=1)
    embargo_sweep(now=now, offsets=OFFSETS)  # 27 days ahead now: the 30-day reminder again
    embargo_sweep(now=starts(later)[7], offsets=OFFSETS)
    assert claimed() == [
        (30, RELEASE, day_starts[30]),
        (7, RELEASE, day_starts[7]),
        (30, later, now),
        (7, later, starts(later)[7]),
    ]
    # The reminder that announced the old date is not sent any more.
    assert reminder_send(reminder_id=pending.pk, now=now) is False
    pending.refresh_from_db()
    assert (
        pending.skipped_reason
        == f"The release date changed to {later:%Y-%m-%d}; reminders follow the new date."
    )


def test_two_sweeps_racing_claim_each_reminder_once(berlin: Project) -> None:
    tracked(berlin, release=RELEASE, title="A")
    tracked(berlin, release=RELEASE + datetime.timedelta(days=1), title="B")
    now = starts(RELEASE)[1]
    # Both sweeps decide what is due before either has written anything.
    first, second = reminders_due(now=now, offsets=OFFSETS), reminders_due(now=now, offsets=OFFSETS)
    assert first == second
    assert sorted(d.offset_days for d in first) == [1, 7]
    assert all(reminder_claim(d, now=now) is not None for d in first)
    assert [reminder_claim(d, now=now) for d in second] == [None, None]
    assert ReminderSent.objects.count() == 2


# SQLite's in-memory test database refuses concurrent writers outright ("table is locked"),
# so real concurrency is tested on PostgreSQL; the test above covers the same race step by step.
@pytest.mark.skipif(connection.vendor == "sqlite", reason="needs a database with concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_in_threads_queue_each_reminder_once(berlin: Project) -> None:
    for n in range(6):
        tracked(berlin, release=RELEASE + datetime.timedelta(days=n), title=f"S{n}")
    now = starts(RELEASE)[1]
    barrier = threading.Barrier(4)

    def sweep(_: int) -> int:
        try:
            barrier.wait()
            return embargo_sweep(now=now, offsets=OFFSETS).queued
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        queued = list(pool.map(sweep, range(4)))
    assert sum(queued) == 6
    assert ReminderSent.objects.count() == 6


def test_a_lost_reminder_is_queued_again_and_still_sent_once(
    berlin: Project, django_capture_on_commit_callbacks: OnCommit
) -> None:
    tracked(berlin, release=RELEASE)
    now = starts(RELEASE)[7]
    with django_capture_on_commit_callbacks() as first:
        embargo_sweep(now=now, offsets=OFFSETS)
    assert len(first) == 1
    assert embargo_sweep(now=now + embargo.REQUEUE_AFTER - MINUTE, offsets=OFFSETS).requeued == 0
    with django_capture_on_commit_callbacks() as again:
        assert embargo_sweep(now=now + embargo.REQUEUE_AFTER, offsets=OFFSETS).requeued == 1
    assert len(again) == 1
    assert embargo_sweep(now=now + embargo.REQUEUE_AFTER, offsets=OFFSETS).requeued == 0
    reminder = ReminderSent.objects.get()
    assert [reminder_send(reminder_id=reminder.pk, now=now) for _ in range(2)] == [True, False]
    assert len(mail.outbox) == 1


def test_the_sweep_counts_embargo_states(berlin: Project) -> None:
    now = release_instant(RELEASE, ZONE)
    tracked(berlin, release=RELEASE, title="due now")
    tracked(berlin, release=RELEASE + datetime.timedelta(days=1), title="tomorrow")
    tracked(berlin, release=None, state=State.SUBMITTED, title="no date")
    tracked(berlin, release=RELEASE, state=State.PUBLIC, title="out")
    tracked(berlin, release=RELEASE, state=State.WITHDRAWN, title="gone")
    summary = embargo_sweep(now=now, offsets=OFFSETS)
    assert summary.states == {
        EmbargoState.OVERDUE: 1,
        EmbargoState.UNDER_EMBARGO: 1,
        EmbargoState.NO_DATE: 1,
        EmbargoState.RELEASED: 1,
    }
    assert str(summary) == (
        "4 submissions tracked (1 no release date, 1 under embargo, 1 overdue, 1 released); "
        "1 reminder queued."
    )


def test_the_command_reports_what_it_did(world: World, settings: SettingsWrapper) -> None:
    settings.FAIRLIGHT_EMBARGO_REMINDER_DAYS = (7,)
    tracked(world.project, release=timezone.localdate(timezone=datetime.UTC) + datetime.timedelta(days=3))
    out = io.StringIO()
    call_command("embargo_sweep", stdout=out)
    assert out.getvalue().strip() == (
        "1 submission tracked (1 under embargo); 1 reminder queued. "
        "0 records at the archive to check for release."
    )
    out = io.StringIO()
    call_command("embargo_sweep", stdout=out)
    assert out.getvalue().strip().startswith("1 submission tracked (1 under embargo); 0 reminders queued.")


# "The paper is out: release now?" ---------------------------------------------------------------


def test_a_publication_doi_asks_once_whether_to_release_now(
    world: World, run_tasks: Callable[[], None], django_capture_on_commit_callbacks: OnCommit
) -> None:
    submission = tracked(world.project, release=RELEASE, accession="S-BIAD9")
    manager = world.users["manager"]
    with django_capture_on_commit_callbacks(execute=True):
        embargo.submission_set_publication_doi(
            submission=submission, doi="https://doi.org/10.1038/s41592-019-0582-9", user=manager
        )
    assert submission.publication_doi == "10.1038/s41592-019-0582-9"
    run_tasks()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "The paper is out: release “Neurons” now?"
    assert mail.outbox[0].to == ["manager@example.org", "owner@example.org"]
    assert "https://doi.org/10.1038/s41592-019-0582-9" in str(mail.outbox[0].body)
    assert submission.events.last().note == "Publication DOI 10.1038/s41592-019-0582-9 recorded."  # type: ignore[union-attr]
    with django_capture_on_commit_callbacks(execute=True):
        embargo.submission_set_publication_doi(
            submission=submission, doi="10.1101/2024.01.01.123456", user=manager
        )
    run_tasks()
    assert len(mail.outbox) == 1  # asked once per submission
    assert ReminderSent.objects.filter(kind=ReminderKind.PUBLICATION).count() == 1


@pytest.mark.parametrize("state", [State.PUBLIC, State.WITHDRAWN])
def test_no_publication_reminder_once_the_data_are_public_or_withdrawn(world: World, state: str) -> None:
    submission = tracked(world.project, release=RELEASE, state=state)
    embargo.submission_set_publication_doi(submission=submission, doi="10.1038/nature12373", user=None)
    assert submission.publication_doi == "10.1038/nature12373"
    assert not ReminderSent.objects.exists()


def test_a_malformed_publication_doi_is_refused_and_changes_nothing(world: World) -> None:
    submission = tracked(world.project, release=RELEASE)
    with pytest.raises(ValidationError) as raised:
        embargo.submission_set_publication_doi(submission=submission, doi="nature12373", user=None)
    assert raised.value.message_dict == {
        "publication_doi": ["“nature12373” is not a DOI; a DOI looks like 10.1038/s41592-019-0582-9."]
    }
    submission.refresh_from_db()
    assert submission.publication_doi == ""
    assert not submission.events.exists()
    assert not ReminderSent.objects.exists()
