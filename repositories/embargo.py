"""Embargo tracking: when the data of a submission become public, and telling people in time.

The due rule. A release date is a calendar date in the project's time zone. A release is due
from the first instant after which a clock in that zone shows the release date or a later
one, and never an earlier one again; ordinarily that is local midnight starting the release
date. Where a clock change skips midnight (America/Santiago goes from 00:00 straight to 01:00)
the date starts when the skipped hour ends; where a clock falls back across midnight
(America/Goose_Bay until 2011 went from 00:01 back to 23:01) the date starts twice and the release
is due from the second start, so it is never reported due while a clock in the zone still shows
the day before. `release_instant` finds that instant from the zone's offsets (tzdata, through
zoneinfo); the embargo state, the days left and the reminders all follow from it, always for a
`now` passed in, so tests control the clock.

Reminders. Owners and managers are emailed at each offset of FAIRLIGHT_EMBARGO_REMINDER_DAYS
(default 30, 7 and 1 days before release): the reminder for N days is due from the start of the
day N days before the release date, and only the smallest offset whose day has begun is sent,
so a release date set 5 days ahead gets the 1-day reminder later but never a stale "30 days"
one. No reminder goes out for a withdrawn or public submission or once the release is due.
Adding a publication DOI while the data are still private asks once "the paper is out: release
now?".

Never twice. `embargo_sweep` (run every few minutes by `manage.py embargo_sweep`) claims each
due reminder by inserting a `ReminderSent` row before anything is sent. The row's unique
constraint (submission, offset, announced release date) lets exactly one of two racing sweeps
insert it, and only the inserter queues the email. The task locks the row and sends only while
`sent_at` is empty, so a task delivered twice (or queued again by a later sweep because a worker
lost it) sends once. A new release date makes new keys, which re-arms the reminders.

The embargo state is computed, never stored: it depends on the clock, and a stored copy would
be stale between sweeps. The sweep reports the states it finds.
"""

from __future__ import annotations

import datetime
import functools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, models, transaction
from django.db.models import F, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.identifiers import bare_doi
from accounts.models import User
from projects.access import AnyUser
from projects.models import Facility, Membership, Project, Role
from repositories import selectors, services
from repositories.models import (
    WITH_THE_ARCHIVE,
    CalendarFeedToken,
    EmbargoChangeKind,
    ReminderKind,
    ReminderSent,
    State,
    Submission,
    SubmissionEvent,
    validate_doi,
)
from repositories.preflight import project_today

UTC = datetime.UTC
_SECOND = datetime.timedelta(seconds=1)
# No zone is 15 hours or more from UTC, so the instant a date starts lies within 36 hours of
# midnight UTC of that date, even when a clock change moves it by a few hours.
_WINDOW = datetime.timedelta(hours=36)
# tzdata never changes a zone's offset twice within six hours (the closest changes are a week
# apart), so sampling the window every six hours finds every change in it.
_SAMPLE = datetime.timedelta(hours=6)
# Dates beyond these are clamped: 1900 is long due and 9000 far ahead in every zone, and the
# window arithmetic stays clear of datetime's limits.
_EARLIEST = datetime.date(1900, 1, 1)
_LATEST = datetime.date(9000, 1, 1)
# A reminder still unsent this long after it was queued is queued again (its worker was lost).
REQUEUE_AFTER = datetime.timedelta(hours=1)
# States after which a submission's release date is settled: no reminders, no changes.
SETTLED = (State.PUBLIC, State.WITHDRAWN)


class EmbargoState(models.TextChoices):
    NO_DATE = "no_date", _("No release date")
    UNDER_EMBARGO = "under_embargo", _("Under embargo")
    OVERDUE = "overdue", _("Overdue")  # the release date has come, the record is not public
    RELEASED = "released", _("Released")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# The due rule (pure) -----------------------------------------------------------------------------


def local_date(now: datetime.datetime, time_zone: str) -> datetime.date:
    """The date a clock in ``time_zone`` shows at the instant ``now``."""
    return now.astimezone(ZoneInfo(time_zone)).date()


def _offset(instant: datetime.datetime, zone: ZoneInfo) -> datetime.timedelta:
    local = instant.astimezone(zone).replace(tzinfo=None)
    return local - instant.astimezone(UTC).replace(tzinfo=None)


def _first_change(start: datetime.datetime, end: datetime.datetime, zone: ZoneInfo) -> datetime.datetime:
    """The first whole second after ``start`` (up to ``end``) whose offset differs from start's."""
    base = _offset(start, zone)
    low, high = start, end
    while high - low > _SECOND:
        middle = (low + (high - low) / 2).replace(microsecond=0)
        if _offset(middle, zone) == base:
            low = middle
        else:
            high = middle
    return high


@functools.lru_cache(maxsize=65536)
def release_instant(release_date: datetime.date, time_zone: str) -> datetime.datetime:
    """The instant (in UTC) from which a release on ``release_date`` is due: see the due rule."""
    day = min(max(release_date, _EARLIEST), _LATEST)
    zone = ZoneInfo(time_zone)
    midnight = datetime.datetime.combine(day, datetime.time(), tzinfo=UTC)
    start, end = midnight - _WINDOW, midnight + _WINDOW
    # The window as pieces of constant offset: (first instant, offset).
    pieces = [(start, _offset(start, zone))]
    sample, offset = start, pieces[0][1]
    while sample < end:
        following = min(sample + _SAMPLE, end)
        if _offset(following, zone) == offset:
            sample = following
            continue
        sample = _first_change(sample, following, zone)
        offset = _offset(sample, zone)
        pieces.append((sample, offset))
    # From the end of the window back to where the local date last turned to the release date.
    # The first piece starts on an earlier local date, whatever the offsets.
    until = end
    for begins, piece_offset in reversed(pieces[1:]):
        if (begins + piece_offset).date() < day:
            return min(midnight - piece_offset, until)
        until = begins
    return min(midnight - pieces[0][1], until)


def is_due(release_date: datetime.date, time_zone: str, now: datetime.datetime) -> bool:
    return now >= release_instant(release_date, time_zone)


def days_until(release_date: datetime.date, time_zone: str, now: datetime.datetime) -> int:
    """Calendar days from today in the zone to the release date; negative once it has passed."""
    return (release_date - local_date(now, time_zone)).days


def embargo_state(
    *,
    release_date: datetime.date | None,
    time_zone: str,
    now: datetime.datetime,
    public: bool,
    withdrawn: bool = False,
) -> EmbargoState:
    """Released once public; otherwise overdue from the instant the release is due."""
    if withdrawn:
        return EmbargoState.WITHDRAWN
    if public:
        return EmbargoState.RELEASED
    if release_date is None:
        return EmbargoState.NO_DATE
    if is_due(release_date, time_zone, now):
        return EmbargoState.OVERDUE
    return EmbargoState.UNDER_EMBARGO


def reminder_offset(
    *, release_date: datetime.date, time_zone: str, now: datetime.datetime, offsets: Iterable[int]
) -> int | None:
    """The offset (days before release) whose reminder is due at ``now``, or None.

    It is the smallest offset whose day has begun in the zone, while the release is not due yet.
    """
    if is_due(release_date, time_zone, now):
        return None
    begun = [days for days in offsets if is_due(release_date - datetime.timedelta(days=days), time_zone, now)]
    return min(begun, default=None)


def reminder_offsets() -> tuple[int, ...]:
    """FAIRLIGHT_EMBARGO_REMINDER_DAYS, largest first."""
    return tuple(settings.FAIRLIGHT_EMBARGO_REMINDER_DAYS)


# Reading: the state of submissions and the dashboards ---------------------------------------------


def submission_state(submission: Submission, *, now: datetime.datetime) -> EmbargoState:
    return embargo_state(
        release_date=submission.release_date,
        time_zone=submission.project.time_zone,
        now=now,
        public=submission.state == State.PUBLIC,
        withdrawn=submission.state == State.WITHDRAWN,
    )


def _tracked(submissions: QuerySet[Submission]) -> QuerySet[Submission]:
    return (
        submissions.exclude(state=State.WITHDRAWN)
        .select_related("project")
        # Without a date last, as on every database (SQLite would put them first).
        .order_by(F("release_date").asc(nulls_last=True), "title", "pk")
    )


def user_submissions(user: AnyUser) -> QuerySet[Submission]:
    """Submissions of every project the user can see (stewards: their facilities' too)."""
    return _tracked(selectors.submissions_visible_to(user))


def project_submissions(project: Project) -> QuerySet[Submission]:
    return _tracked(Submission.objects.filter(project=project))


def facility_submissions(facility: Facility) -> QuerySet[Submission]:
    return _tracked(Submission.objects.filter(project__facility=facility))


@dataclass(frozen=True)
class EmbargoRow:
    submission: Submission
    state: EmbargoState
    days: int | None  # days until the release date; negative once it has passed

    @property
    def days_overdue(self) -> int:
        return -(self.days or 0)


@dataclass(frozen=True)
class MonthGroup:
    month: datetime.date  # the first day of the month
    rows: list[EmbargoRow]


@dataclass(frozen=True)
class EmbargoOverview:
    upcoming: list[EmbargoRow] = field(default_factory=list)
    overdue: list[EmbargoRow] = field(default_factory=list)
    missing_accessions: list[EmbargoRow] = field(default_factory=list)

    @property
    def months(self) -> list[MonthGroup]:
        """The upcoming releases by month, for the timeline."""
        groups: dict[datetime.date, list[EmbargoRow]] = {}
        for row in self.upcoming:
            if row.submission.release_date is not None:
                groups.setdefault(row.submission.release_date.replace(day=1), []).append(row)
        return [MonthGroup(month, rows) for month, rows in groups.items()]

    @property
    def is_empty(self) -> bool:
        return not (self.upcoming or self.overdue or self.missing_accessions)


def embargo_overview(submissions: Iterable[Submission], *, now: datetime.datetime) -> EmbargoOverview:
    """Upcoming releases, overdue ones (due but not public) and records with the archive that
    have no accession yet; ``submissions`` in release-date order, their projects loaded."""
    overview = EmbargoOverview()
    for submission in submissions:
        state = submission_state(submission, now=now)
        release = submission.release_date
        days = days_until(release, submission.project.time_zone, now) if release is not None else None
        row = EmbargoRow(submission=submission, state=state, days=days)
        if state == EmbargoState.UNDER_EMBARGO:
            overview.upcoming.append(row)
        elif state == EmbargoState.OVERDUE:
            overview.overdue.append(row)
        if submission.state in WITH_THE_ARCHIVE and not submission.accession:
            overview.missing_accessions.append(row)
    return overview


def upcoming_releases(user: AnyUser, *, now: datetime.datetime, within_days: int) -> list[EmbargoRow]:
    """The user's releases that are not due yet and fall within the next ``within_days`` days."""
    latest = now.astimezone(UTC).date() + datetime.timedelta(days=within_days + 1)
    candidates = user_submissions(user).filter(release_date__lte=latest)
    return [
        row
        for row in embargo_overview(candidates, now=now).upcoming
        if row.days is not None and row.days <= within_days
    ]


# Changing an embargo --------------------------------------------------------------------------------


class PastDateNeedsConfirmation(ValidationError):
    """A release date in the past was asked for without confirming it."""


def _final_state_error(submission: Submission) -> ValidationError:
    label = str(State(submission.state).label).lower()
    return ValidationError(f"The submission is {label}; its release date is final.")


def embargo_change(
    *,
    submission: Submission,
    user: User | None,
    reason: str,
    new_date: datetime.date | None = None,
    release_now: bool = False,
    confirm_past: bool = False,
) -> Submission:
    """Extend or shorten the embargo, or end it today ("release now"), recording who, when,
    old → new and why. A past date is refused with `PastDateNeedsConfirmation` unless
    ``confirm_past``: the record would be reported overdue at once."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the embargo changes; the reason is kept in its history."})
    if release_now and new_date is not None:
        raise ValidationError("Choose either a new release date or “release now”, not both.")
    if submission.state in SETTLED:
        raise _final_state_error(submission)
    today = project_today(submission)
    zone = submission.project.time_zone
    old = submission.release_date
    kind: EmbargoChangeKind | None = None
    if release_now:
        if old is not None and old <= today:
            raise ValidationError(
                f"The release date {old:%Y-%m-%d} has come already (today is {today:%Y-%m-%d} in {zone}); "
                "mark the submission public once the archive shows the data."
            )
        target, kind = today, EmbargoChangeKind.RELEASE_NOW
    elif new_date is not None:
        target = new_date
    else:
        raise ValidationError({"release_date": "Choose a new release date, or release now."})
    if target == old:
        raise ValidationError({"release_date": f"The release date is {old:%Y-%m-%d} already."})
    if target < today and not confirm_past:
        raise PastDateNeedsConfirmation(
            {
                "release_date": f"{target:%Y-%m-%d} is in the past (today is {today:%Y-%m-%d} in {zone}): "
                "the record will be reported overdue at once. Confirm the date to set it anyway."
            }
        )
    return services.submission_set_release_date(
        submission=submission,
        release_date=target,
        user=user,
        note=reason,
        allow_past=confirm_past,
        kind=kind,
    )


def submission_set_publication_doi(*, submission: Submission, doi: str, user: User | None) -> Submission:
    """Record the DOI of the paper that presents the data (empty clears it). While the data are
    still private, the owners and managers are asked once whether to release them now."""
    value = bare_doi(doi)
    if value:
        try:
            validate_doi(value)
        except ValidationError as exc:
            raise ValidationError({"publication_doi": exc.messages}) from None
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        if locked.publication_doi != value:
            locked.publication_doi = value
            locked.save(update_fields=["publication_doi", "updated_at"])
            note = f"Publication DOI {value} recorded." if value else "Publication DOI removed."
            SubmissionEvent.objects.create(
                submission=locked, from_state=locked.state, to_state=locked.state, user=user, note=note
            )
            if value and locked.state not in SETTLED:
                claimed = _claim(
                    ReminderSent(submission=locked, kind=ReminderKind.PUBLICATION, publication_doi=value)
                )
                if claimed is not None:
                    _queue(claimed)
    submission.refresh_from_db()
    return submission


# Reminders ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueReminder:
    submission_id: int
    offset_days: int
    release_date: datetime.date


def reminders_due(*, now: datetime.datetime, offsets: Iterable[int]) -> list[DueReminder]:
    """Reminders before release that are due at ``now`` and not claimed yet."""
    offsets = tuple(offsets)
    if not offsets:
        return []
    # Any zone's date is within a day of UTC's; a margin of two keeps the query a superset.
    today = now.astimezone(UTC).date()
    candidates = (
        Submission.objects.exclude(state__in=SETTLED)
        .filter(
            release_date__gte=today - datetime.timedelta(days=2),
            release_date__lte=today + datetime.timedelta(days=max(offsets) + 2),
        )
        .select_related("project")
    )
    due = []
    for submission in candidates:
        release = submission.release_date
        if release is None:
            continue
        offset = reminder_offset(
            release_date=release, time_zone=submission.project.time_zone, now=now, offsets=offsets
        )
        if offset is not None:
            due.append(DueReminder(submission.pk, offset, release))
    claimed = set(
        ReminderSent.objects.filter(
            kind=ReminderKind.BEFORE_RELEASE, submission_id__in=[d.submission_id for d in due]
        ).values_list("submission_id", "offset_days", "release_date")
    )
    return [d for d in due if (d.submission_id, d.offset_days, d.release_date) not in claimed]


def _claim(reminder: ReminderSent) -> ReminderSent | None:
    """Insert the reminder's row; None when another sweep (or an earlier one) has it already."""
    try:
        with transaction.atomic():
            reminder.save(force_insert=True)
    except IntegrityError:
        return None
    return reminder


def reminder_claim(due: DueReminder, *, now: datetime.datetime) -> ReminderSent | None:
    return _claim(
        ReminderSent(
            submission_id=due.submission_id,
            kind=ReminderKind.BEFORE_RELEASE,
            offset_days=due.offset_days,
            release_date=due.release_date,
            claimed_at=now,
            enqueued_at=now,
        )
    )


def _queue(reminder: ReminderSent) -> None:
    from repositories.tasks import send_embargo_reminder

    pk = reminder.pk
    transaction.on_commit(lambda: send_embargo_reminder.enqueue(reminder_id=pk))


def _requeue_lost(now: datetime.datetime) -> int:
    """Queue again the reminders whose email a worker never sent; each by one sweep only."""
    count = 0
    stale = ReminderSent.objects.filter(
        sent_at__isnull=True, skipped_reason="", enqueued_at__lte=now - REQUEUE_AFTER
    )
    for reminder in stale:
        taken = ReminderSent.objects.filter(
            pk=reminder.pk, sent_at__isnull=True, enqueued_at=reminder.enqueued_at
        ).update(enqueued_at=now)
        if taken:
            _queue(reminder)
            count += 1
    return count


@dataclass(frozen=True)
class SweepSummary:
    states: dict[EmbargoState, int]
    queued: int
    requeued: int

    def __str__(self) -> str:
        tracked = sum(self.states.values())
        parts = [f"{self.states[s]} {s.label.lower()}" for s in EmbargoState if self.states.get(s)]
        return (
            f"{tracked} submission{'s' if tracked != 1 else ''} tracked"
            + (f" ({', '.join(parts)})" if parts else "")
            + f"; {self.queued} reminder{'s' if self.queued != 1 else ''} queued"
            + (f", {self.requeued} queued again" if self.requeued else "")
            + "."
        )


def embargo_sweep(
    *, now: datetime.datetime | None = None, offsets: Iterable[int] | None = None
) -> SweepSummary:
    """Queue the reminders due at ``now`` (each once, see the module docstring) and count the
    embargo states. Safe to run at any time, as often as wanted, several at once."""
    now = now or timezone.now()
    queued = 0
    for due in reminders_due(now=now, offsets=reminder_offsets() if offsets is None else offsets):
        reminder = reminder_claim(due, now=now)
        if reminder is not None:
            _queue(reminder)
            queued += 1
    requeued = _requeue_lost(now)
    states = Counter(
        submission_state(s, now=now)
        for s in Submission.objects.exclude(state=State.WITHDRAWN).select_related("project")
    )
    return SweepSummary(states=dict(states), queued=queued, requeued=requeued)


def absolute_url(path: str) -> str:
    return str(settings.FAIRLIGHT_BASE_URL).rstrip("/") + path


def reminder_recipients(project: Project) -> list[str]:
    """The addresses of the project's owners and managers."""
    members = Membership.objects.filter(
        project=project, role__in=[Role.OWNER, Role.MANAGER], user__is_active=True
    ).exclude(user__email="")
    return sorted(set(members.values_list("user__email", flat=True)))


def _why_not(reminder: ReminderSent, submission: Submission, now: datetime.datetime) -> str:
    """Why the reminder no longer applies, or empty when it does."""
    if submission.state in SETTLED:
        return f"The submission is {str(State(submission.state).label).lower()}."
    if reminder.kind == ReminderKind.PUBLICATION:
        return ""
    if submission.release_date != reminder.release_date:
        new = f"{submission.release_date:%Y-%m-%d}" if submission.release_date else "none"
        return f"The release date changed to {new}; reminders follow the new date."
    if reminder.release_date is not None and is_due(reminder.release_date, submission.project.time_zone, now):
        return "The release date had come by the time a worker took the reminder up."
    return ""


def _message(
    reminder: ReminderSent, submission: Submission, recipients: list[str], now: datetime.datetime
) -> EmailMessage:
    release = submission.release_date
    context = {
        "submission": submission,
        "project": submission.project,
        "url": absolute_url(submission.get_absolute_url()),
        "dashboard_url": absolute_url(reverse("embargoes:project", args=[submission.project_id])),
        "days": days_until(release, submission.project.time_zone, now) if release else None,
        "doi": reminder.publication_doi,
    }
    if reminder.kind == ReminderKind.PUBLICATION:
        subject = f"The paper is out: release “{submission}” now?"
        body = render_to_string("repositories/embargo_publication_email.txt", context)
    else:
        days = context["days"]
        subject = (
            f"“{submission}” becomes public in {days} day{'s' if days != 1 else ''} ({release:%Y-%m-%d})"
        )
        body = render_to_string("repositories/embargo_reminder_email.txt", context)
    # One message to all of them: it is sent whole or not at all, so a retry never repeats it.
    return EmailMessage(subject=subject, body=body, to=recipients)


def reminder_send(*, reminder_id: int, now: datetime.datetime | None = None) -> bool:
    """Send a claimed reminder if it still applies; False when it was sent or no longer applies."""
    now = now or timezone.now()
    with transaction.atomic():
        reminder = (
            ReminderSent.objects.select_for_update(of=("self",))
            .select_related("submission__project")
            .filter(pk=reminder_id, sent_at__isnull=True, skipped_reason="")
            .first()
        )
        if reminder is None:
            return False
        submission = reminder.submission
        recipients = reminder_recipients(submission.project)
        why_not = _why_not(reminder, submission, now) or (
            "" if recipients else "No owner or manager of the project has an email address."
        )
        if why_not:
            reminder.skipped_reason = why_not
            reminder.save(update_fields=["skipped_reason"])
            return False
        _message(reminder, submission, recipients, now).send()
        reminder.sent_at = now
        reminder.recipients = ", ".join(recipients)
        reminder.save(update_fields=["sent_at", "recipients"])
    return True


# The calendar feed ---------------------------------------------------------------------------------


def calendar_token_create(*, user: User) -> tuple[CalendarFeedToken, str]:
    """A new secret calendar address for ``user``, replacing any earlier one; the key is
    returned once and never stored."""
    key = CalendarFeedToken.new_key()
    token = CalendarFeedToken(user=user)
    token.set_key(key)
    try:
        with transaction.atomic():
            CalendarFeedToken.objects.filter(user=user).delete()
            token.save()
    except IntegrityError:
        raise ValidationError(
            "Another calendar address was made at the same moment; reload the page."
        ) from None
    return token, key


def calendar_token_revoke(*, user: User) -> bool:
    deleted, _ = CalendarFeedToken.objects.filter(user=user).delete()
    return deleted > 0


def calendar_feed_user(key: str, *, now: datetime.datetime | None = None) -> User | None:
    """The active user whose calendar address has this key, or None."""
    token = CalendarFeedToken.objects.matching(key).select_related("user").first()
    if token is None or not token.user.is_active:
        return None
    CalendarFeedToken.objects.filter(pk=token.pk).update(last_used_at=now or timezone.now())
    return token.user


def ics_text(value: str) -> str:
    """A TEXT value escaped as RFC 5545 (3.3.11) asks; control characters become spaces."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = "".join(c if c in "\t\n" or (c >= " " and c != "\x7f") else " " for c in value)
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def ics_fold(line: str) -> str:
    """One content line, folded into lines of at most 75 octets (never inside a UTF-8 character),
    each ended by CRLF (RFC 5545 3.1)."""
    lines, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        if size + width > 75:
            lines.append(current)
            current, size = " ", 1
        current += char
        size += width
    lines.append(current)
    return "".join(f"{part}\r\n" for part in lines)


def _ics_stamp(instant: datetime.datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar_feed(*, user: AnyUser, now: datetime.datetime) -> str:
    """The user's release dates as an iCalendar file: one all-day event per submission, whose UID
    stays the same when the date moves, so calendar apps move the event."""
    host = urlsplit(str(settings.FAIRLIGHT_BASE_URL)).hostname or "fairlight"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//FAIRlight//Embargo releases//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{ics_text('FAIRlight release dates')}",
    ]
    for submission in user_submissions(user):
        release = submission.release_date
        if release is None:
            continue
        state = submission_state(submission, now=now)
        details = [
            f"Project: {submission.project}",
            f"Repository: {submission.get_target_display()}",
            f"Embargo: {state.label} (release date in {submission.project.time_zone})",
            f"Accession: {submission.accession or 'not yet'}",
        ]
        lines += [
            "BEGIN:VEVENT",
            f"UID:submission-{submission.pk}-release@{host}",
            f"DTSTAMP:{_ics_stamp(submission.updated_at)}",
            f"LAST-MODIFIED:{_ics_stamp(submission.updated_at)}",
            f"DTSTART;VALUE=DATE:{release:%Y%m%d}",
            f"DTEND;VALUE=DATE:{release + datetime.timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{ics_text(f'Release: {submission.title} ({submission.get_target_display()})')}",
            f"DESCRIPTION:{ics_text(chr(10).join(details))}",
            f"URL:{absolute_url(submission.get_absolute_url())}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(ics_fold(line) for line in lines)
