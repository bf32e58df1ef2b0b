from __future__ import annotations

import secrets
import zoneinfo
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from projects.storage import PathOutsideRoot, allowed_root_containing, resolve_within


class Facility(models.Model):
    """An imaging core facility: its rules and its stewards apply to the projects it hosts."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    data_handling_policy = models.TextField(
        _("data-handling policy"),
        blank=True,
        help_text=_("How data must be named, stored and moved, as researchers should read it."),
    )
    retention_policy = models.TextField(
        _("retention policy"),
        blank=True,
        help_text=_("How long raw and processed data are kept, and what happens after."),
    )
    contact_email = models.EmailField(_("contact email"), blank=True)
    stewards = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="stewarded_facilities",
        verbose_name=_("data stewards"),
        help_text=_("Stewards review plans and see every project of the facility."),
    )
    storage_tiers = models.JSONField(
        _("storage tiers"),
        default=list,
        blank=True,
        help_text=_(
            'What the facility charges for storage, as a list of tiers: [{"name": "Online (disk)", '
            '"price_per_tb_year": 120, "currency": "EUR"}]; the DMP cost estimator offers them.'
        ),
    )

    class Meta:
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        tiers = self.storage_tiers
        if not isinstance(tiers, list):
            raise ValidationError({"storage_tiers": _("Give a list of tiers.")})
        for number, tier in enumerate(tiers, start=1):
            if not isinstance(tier, dict) or not str(tier.get("name", "")).strip():
                raise ValidationError({"storage_tiers": _("Tier %(n)s needs a name.") % {"n": number}})
            price = tier.get("price_per_tb_year")
            if isinstance(price, bool) or not isinstance(price, int | float) or price < 0:
                raise ValidationError(
                    {"storage_tiers": _("Tier “%(name)s”: price_per_tb_year must be a number ≥ 0.") % tier}
                )
            currency = tier.get("currency")
            if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
                raise ValidationError(
                    {
                        "storage_tiers": _(
                            "Tier “%(name)s”: currency must be a three-letter code such as EUR."
                        )
                        % tier
                    }
                )


class StorageRoot(models.Model):
    """A named folder on facility storage under which datasets may be registered."""

    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="storage_roots", verbose_name=_("facility")
    )
    name = models.SlugField(
        _("name"), max_length=50, unique=True, help_text=_("Short name used in paths and the CLI.")
    )
    path = models.CharField(
        _("path"),
        max_length=1000,
        help_text=_("Absolute path on the server; it must lie inside FAIRLIGHT_STORAGE_ROOTS."),
    )
    quota_bytes = models.PositiveBigIntegerField(
        _("quota (bytes)"), null=True, blank=True, help_text=_("Empty means no quota.")
    )
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("storage root")
        verbose_name_plural = _("storage roots")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        path = Path(self.path)
        if not path.is_absolute():
            raise ValidationError({"path": _("Give an absolute path.")})
        if not path.is_dir():
            raise ValidationError({"path": _("%(path)s is not an existing folder.") % {"path": path}})
        if allowed_root_containing(path) is None:
            raise ValidationError(
                {"path": _("%(path)s is not inside any folder of FAIRLIGHT_STORAGE_ROOTS.") % {"path": path}}
            )

    def resolve(self, relative: str) -> Path:
        """The real path of ``relative`` inside this root; raises PathOutsideRoot."""
        root = Path(self.path)
        # Re-checked on every use: IT may have removed the folder from the allow-list.
        if allowed_root_containing(root) is None:
            raise PathOutsideRoot(
                f"Storage root {self.name!r} ({root}) is no longer allowed by FAIRLIGHT_STORAGE_ROOTS."
            )
        return resolve_within(root, relative)


class Team(models.Model):
    """A lab or group; storage use is reported and invoiced per team."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    facility = models.ForeignKey(
        Facility,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="teams",
        verbose_name=_("facility"),
        help_text=_("The facility that invoices this team's storage."),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="teams", verbose_name=_("members")
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def _validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class Project(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ARCHIVED = "archived", _("Archived")

    title = models.CharField(_("title"), max_length=300)
    acronym = models.CharField(_("acronym"), max_length=30, blank=True)
    description = models.TextField(_("description"), blank=True)
    funder = models.CharField(
        _("funder"), max_length=200, blank=True, help_text=_("e.g. European Commission, NIH.")
    )
    grant_id = models.CharField(_("grant id"), max_length=100, blank=True)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="UTC",
        validators=[_validate_time_zone],
        help_text=_("Release dates and reminders follow this time zone, e.g. Europe/Berlin."),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="projects",
        verbose_name=_("team"),
    )
    facility = models.ForeignKey(
        Facility,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="projects",
        verbose_name=_("facility"),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=Status.choices,
        default=Status.ACTIVE,
        help_text=_("Archived projects stay searchable while their data moves to long-term storage."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["-updated_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="project_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.acronym}: {self.title}" if self.acronym else self.title

    def get_absolute_url(self) -> str:
        return reverse("projects:detail", args=[self.pk])

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("The end date is before the start date.")})


class Role(models.TextChoices):
    """Project roles, from most to least powerful (see projects.access for what each may do)."""

    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    EDITOR = "editor", _("Editor")
    REVIEWER = "reviewer", _("Reviewer")
    VIEWER = "viewer", _("Viewer")


class Membership(models.Model):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("project")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(_("member since"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["project", "user__username"]
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.project}"


def _new_nonce() -> str:
    return secrets.token_hex(16)


class Invitation(models.Model):
    """An emailed invitation to join a project with a role.

    The link carries a token signed with SECRET_KEY over the invitation id and a
    random nonce; only the nonce is stored, so the database alone cannot forge a link.
    """

    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("project")
    )
    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.VIEWER)
    nonce = models.CharField(max_length=32, default=_new_nonce, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            # One open invitation per address and project: re-inviting resends it.
            models.UniqueConstraint(
                fields=["project", "email"],
                condition=Q(accepted_at__isnull=True),
                name="invitation_one_open_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.project} ({self.role})"
