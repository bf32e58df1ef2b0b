from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
