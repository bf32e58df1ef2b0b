from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from projects.models import Facility


class Template(models.Model):
    """One version of a DMP template, loaded from a file in dmp/templates/.

    Plans keep the version they were started from; a newer version is a new row, so an
    upgrade can carry answers over by question key and list what it could not carry.
    """

    key = models.SlugField(
        _("key"), max_length=50, help_text=_("Stable across versions, e.g. horizon-europe.")
    )
    version = models.CharField(_("version"), max_length=20)
    title = models.CharField(_("title"), max_length=200)
    funder = models.CharField(_("funder"), max_length=200)
    source = models.CharField(_("source"), max_length=500)
    content = models.JSONField(_("content"), help_text=_("The template file, as validated when loaded."))
    sha256 = models.CharField(_("file checksum"), max_length=64)
    loaded_at = models.DateTimeField(_("loaded at"), auto_now=True)

    class Meta:
        verbose_name = _("DMP template")
        verbose_name_plural = _("DMP templates")
        ordering = ["title", "-version"]
        constraints = [models.UniqueConstraint(fields=["key", "version"], name="template_unique_version")]

    def __str__(self) -> str:
        return f"{self.title} ({self.version})"

    @property
    def sections(self) -> list[dict[str, Any]]:
        return list(self.content["sections"])


class FacilityGuidance(models.Model):
    """A facility's own guidance for a question of a template, shown beside the funder's.

    Keyed by template key and question key, not by version, so it carries over to new versions.
    """

    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="dmp_guidance", verbose_name=_("facility")
    )
    template_key = models.SlugField(_("template"), max_length=50)
    question_key = models.CharField(_("question"), max_length=80)
    text = models.TextField(_("guidance"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("facility guidance")
        verbose_name_plural = _("facility guidance")
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "template_key", "question_key"], name="facilityguidance_unique_question"
            )
        ]

    def __str__(self) -> str:
        return f"{self.facility}: {self.template_key}/{self.question_key}"


class Plan(models.Model):
    """A project's data management plan, written from one template version."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        FINAL = "final", _("Final")

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="plans", verbose_name=_("project")
    )
    template = models.ForeignKey(
        Template, on_delete=models.PROTECT, related_name="plans", verbose_name=_("template")
    )
    title = models.CharField(_("title"), max_length=300)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    blocks = models.JSONField(
        _("planned datasets"),
        default=list,
        blank=True,
        help_text=_("The repeatable blocks, in order: [{id, title}]; answers name their block by id."),
    )
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title


class Answer(models.Model):
    """One answer of a plan; ``version`` rises with every save so concurrent edits are detected."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="answers", verbose_name=_("plan"))
    question_key = models.CharField(_("question"), max_length=80)
    block_id = models.CharField(
        _("planned dataset"), max_length=20, blank=True, help_text=_("Empty for plan-level.")
    )
    value = models.JSONField(_("value"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "question_key", "block_id"], name="answer_unique_question"
            )
        ]

    def __str__(self) -> str:
        return f"{self.plan}: {self.question_key}"
