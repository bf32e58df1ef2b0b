from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import SecretKey, SecretKeyQuerySet
from metadata.models import Dataset
from projects.models import Project


class Target(models.TextChoices):
    """The archives FAIRlight packages for; each has a module under repositories/."""

    BIA = "bia", _("BioImage Archive")
    IDR = "idr", _("Image Data Resource")
    ZENODO = "zenodo", _("Zenodo")


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CHECKED = "checked", _("Checked")
    PACKAGED = "packaged", _("Packaged")
    SUBMITTED = "submitted", _("Submitted")
    ACCESSIONED = "accessioned", _("Accessioned")
    EMBARGOED = "embargoed", _("Embargoed")
    PUBLIC = "public", _("Public")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# The archive holds the data under an accession, released or not.
ACCESSIONED_STATES = (State.ACCESSIONED, State.EMBARGOED, State.PUBLIC)
# Sent to the archive, with or without an accession yet.
WITH_THE_ARCHIVE = (State.SUBMITTED, *ACCESSIONED_STATES)


# Where a submission may go next. repositories.services.submission_transition is the only
# code that changes a state, and it refuses anything not listed here.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    State.DRAFT: (State.CHECKED, State.WITHDRAWN),
    State.CHECKED: (State.PACKAGED, State.DRAFT, State.WITHDRAWN),
    State.PACKAGED: (State.SUBMITTED, State.DRAFT, State.WITHDRAWN),
    # An archive that asks for changes sends the submission back to draft.
    State.SUBMITTED: (State.ACCESSIONED, State.DRAFT, State.WITHDRAWN),
    State.ACCESSIONED: (State.EMBARGOED, State.PUBLIC, State.WITHDRAWN),
    State.EMBARGOED: (State.PUBLIC, State.WITHDRAWN),
    State.PUBLIC: (State.WITHDRAWN,),
    State.WITHDRAWN: (),
}


DOI_PATTERN = re.compile(r"^10\.\d{4,9}/\S+$")


def validate_doi(value: str) -> None:
    if not DOI_PATTERN.fullmatch(value):
        raise ValidationError(
            _("“%(value)s” is not a DOI; a DOI looks like 10.1038/s41592-019-0582-9."),
            params={"value": value},
        )


class Submission(models.Model):
    """One or more datasets of a project on their way into one archive."""

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="submissions", verbose_name=_("project")
    )
    datasets = models.ManyToManyField(Dataset, related_name="submissions", verbose_name=_("datasets"))
    target = models.CharField(_("repository"), max_length=10, choices=Target.choices)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.DRAFT)
    title = models.CharField(_("title"), max_length=300)
    release_date = models.DateField(
        _("release date"),
        null=True,
        blank=True,
        help_text=_("When the archive makes the data public, as a date in the project's time zone."),
    )
    preflight = models.JSONField(
        _("pre-flight report"),
        default=dict,
        blank=True,
        help_text=_("The findings of the last pre-flight check, in plain words."),
    )
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    package_path = models.CharField(
        _("package folder"),
        max_length=1000,
        blank=True,
        help_text=_("Empty until a package has been built completely."),
    )
    packaged_at = models.DateTimeField(_("packaged at"), null=True, blank=True)
    build_started_at = models.DateTimeField(
        _("build started at"),
        null=True,
        blank=True,
        help_text=_("Set while a package build is queued or runs."),
    )
    package_error = models.TextField(_("why the last build failed"), blank=True)
    accession = models.CharField(
        _("accession or record id"),
        max_length=100,
        blank=True,
        help_text=_("What the archive calls the submission, e.g. S-BIAD1494, idr0123 or a Zenodo record id."),
    )
    doi = models.CharField(_("DOI"), max_length=200, blank=True, help_text=_("e.g. 10.6019/S-BIAD1494"))
    publication_doi = models.CharField(
        _("publication DOI"),
        max_length=200,
        blank=True,
        validators=[validate_doi],
        help_text=_(
            "DOI of the paper that presents the data, e.g. 10.1038/s41592-019-0582-9. While the data "
            "are still private, adding it asks the owners and managers whether to release them now."
        ),
    )
    # What the archive holds, where FAIRlight sets the access through the archive's API (Zenodo):
    # compared with release_date to show whether the archive is in step.
    archive_access_set_at = models.DateTimeField(
        _("access set at the archive at"),
        null=True,
        blank=True,
        help_text=_("When FAIRlight last set the record's access through the archive's API; empty if never."),
    )
    archive_release_date = models.DateField(
        _("release date at the archive"),
        null=True,
        blank=True,
        help_text=_(
            "The date until which the archive keeps the files restricted; empty when they are public."
        ),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["-created_at"]
        constraints = [
            # A state outside the lifecycle would escape the transition rules.
            models.CheckConstraint(condition=Q(state__in=State.values), name="submission_known_state"),
            models.CheckConstraint(condition=Q(target__in=Target.values), name="submission_known_target"),
            # One archive record belongs to one submission, so an accession is recorded once.
            models.UniqueConstraint(
                fields=["target", "accession"], condition=~Q(accession=""), name="submission_unique_accession"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("repositories:detail", args=[self.pk])

    @property
    def is_building(self) -> bool:
        return self.build_started_at is not None

    @property
    def has_package(self) -> bool:
        return bool(self.package_path)


class SubmissionEvent(models.Model):
    """A change of a submission's state (or of its release date), with who and when."""

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="events", verbose_name=_("submission")
    )
    from_state = models.CharField(_("from"), max_length=12, choices=State.choices)
    to_state = models.CharField(_("to"), max_length=12, choices=State.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty for changes made by a background task."),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("submission event")
        verbose_name_plural = _("submission events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.submission}: {self.from_state} → {self.to_state}"


class EmbargoChangeKind(models.TextChoices):
    SET = "set", _("Release date set")
    EXTEND = "extend", _("Extended")
    SHORTEN = "shorten", _("Shortened")
    RELEASE_NOW = "release_now", _("Released now")


class EmbargoChange(models.Model):
    """A change of a submission's release date (the end of its embargo): who, when, old → new, why."""

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="embargo_changes", verbose_name=_("submission")
    )
    kind = models.CharField(_("change"), max_length=12, choices=EmbargoChangeKind.choices)
    old_date = models.DateField(_("old release date"), null=True, blank=True)
    new_date = models.DateField(_("new release date"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("embargo change")
        verbose_name_plural = _("embargo changes")
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=EmbargoChangeKind.values), name="embargo_change_known_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.submission}: {self.old_date or 'none'} → {self.new_date}"


class ReminderKind(models.TextChoices):
    BEFORE_RELEASE = "before_release", _("Before release")
    PUBLICATION = "publication", _("Paper published")


class ReminderSent(models.Model):
    """An embargo reminder, claimed by writing this row before the email is sent.

    The unique constraints are what keep a reminder from going out twice: of two sweeps that
    find the same reminder due at once, only one can insert its row, and only the inserter
    queues the email. A reminder before release is keyed by the release date it announces, so
    a new release date re-arms the reminders.
    """

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="reminders", verbose_name=_("submission")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ReminderKind.choices)
    offset_days = models.PositiveSmallIntegerField(
        _("days before release"), default=0, help_text=_("For reminders before release.")
    )
    release_date = models.DateField(
        _("release date announced"), null=True, blank=True, help_text=_("For reminders before release.")
    )
    publication_doi = models.CharField(
        _("publication DOI"), max_length=200, blank=True, help_text=_("For reminders of a published paper.")
    )
    claimed_at = models.DateTimeField(_("claimed at"), default=timezone.now)
    enqueued_at = models.DateTimeField(
        _("queued at"), default=timezone.now, help_text=_("When the email was last handed to the workers.")
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    recipients = models.TextField(_("sent to"), blank=True)
    skipped_reason = models.TextField(
        _("why it was not sent"),
        blank=True,
        help_text=_("Set when the reminder no longer applied by the time a worker took it up."),
    )

    class Meta:
        verbose_name = _("embargo reminder")
        verbose_name_plural = _("embargo reminders")
        ordering = ["-claimed_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ReminderKind.values), name="reminder_known_kind"),
            models.CheckConstraint(
                condition=Q(kind=ReminderKind.PUBLICATION) | Q(release_date__isnull=False),
                name="reminder_before_release_names_its_date",
            ),
            # Once per offset and announced date, even when two sweeps race (see the docstring).
            models.UniqueConstraint(
                fields=["submission", "offset_days", "release_date"],
                condition=Q(kind=ReminderKind.BEFORE_RELEASE),
                name="reminder_once_per_offset_and_date",
            ),
            # "The paper is out: release now?" is asked once per submission.
            models.UniqueConstraint(
                fields=["submission"],
                condition=Q(kind=ReminderKind.PUBLICATION),
                name="reminder_publication_once",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == ReminderKind.PUBLICATION:
            return f"{self.submission}: paper {self.publication_doi}"
        return f"{self.submission}: {self.offset_days} days before {self.release_date}"


class CalendarFeedTokenQuerySet(SecretKeyQuerySet["CalendarFeedToken"]):
    pass


class CalendarFeedToken(SecretKey, models.Model):
    """The secret address of a person's calendar of release dates; only its SHA-256 is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="calendar_feed_tokens",
        verbose_name=_("user"),
    )
    prefix = models.CharField(
        _("prefix"), max_length=8, help_text=_("First characters, to recognise the address.")
    )
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last fetched at"), null=True, blank=True)

    objects = CalendarFeedTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("calendar feed address")
        verbose_name_plural = _("calendar feed addresses")
        constraints = [
            # One address per person: a new one replaces the old, so a leaked address is revoked by
            # making a new one.
            models.UniqueConstraint(fields=["user"], name="calendar_feed_one_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.prefix}…)"
