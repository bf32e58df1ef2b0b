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
    imported = models.JSONField(
        _("imported maDMP"),
        default=dict,
        blank=True,
        help_text=_(
            "For a plan imported from an maDMP file: the fields no question of the template holds, "
            "kept so that an export gives them back."
        ),
    )
    estimate = models.JSONField(
        _("storage and cost estimate"),
        default=dict,
        blank=True,
        help_text=_("The last inputs of the storage and cost estimator, so the form remembers them."),
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


class AnswerRevision(models.Model):
    """One saved value of an answer: the history of who changed which answer when."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("plan"))
    question_key = models.CharField(_("question"), max_length=80)
    block_id = models.CharField(_("planned dataset"), max_length=20, blank=True)
    value = models.JSONField(_("value"), null=True, blank=True)
    version = models.PositiveIntegerField(_("answer version"))
    changed_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("answer revision")
        verbose_name_plural = _("answer revisions")
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["plan", "question_key", "block_id"], name="answerrevision_question")]

    def __str__(self) -> str:
        return f"{self.plan}: {self.question_key} v{self.version}"


class PlanSnapshot(models.Model):
    """A named, frozen copy of a plan's answers and planned datasets (a version of the plan)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="snapshots", verbose_name=_("plan"))
    name = models.CharField(_("name"), max_length=200)
    template = models.ForeignKey(
        Template, on_delete=models.PROTECT, related_name="+", verbose_name=_("template")
    )
    title = models.CharField(_("plan title"), max_length=300)
    blocks = models.JSONField(_("planned datasets"), default=list, blank=True)
    answers = models.JSONField(
        _("answers"), default=list, blank=True, help_text=_("[{question_key, block_id, value}]")
    )
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("plan snapshot")
        verbose_name_plural = _("plan snapshots")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.plan}: {self.name}"


class Comment(models.Model):
    """A comment on one question of a plan (of one planned dataset, for block questions)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="comments", verbose_name=_("plan"))
    question_key = models.CharField(_("question"), max_length=80)
    block_id = models.CharField(_("planned dataset"), max_length=20, blank=True)
    author = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("author")
    )
    text = models.TextField(_("comment"), max_length=5000)
    resolved = models.BooleanField(_("resolved"), default=False)
    resolved_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["plan", "resolved"], name="comment_plan_open")]

    def __str__(self) -> str:
        return f"{self.plan}: {self.question_key}: {self.text[:40]}"


class ReviewRequest(models.Model):
    """A plan sent to its facility's data stewards for feedback."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for review")
        REVIEWED = "reviewed", _("Reviewed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    plan = models.ForeignKey(
        Plan, on_delete=models.CASCADE, related_name="review_requests", verbose_name=_("plan")
    )
    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="review_requests", verbose_name=_("facility")
    )
    message = models.TextField(_("message"), blank=True, max_length=5000)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    requested_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    reviewed_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    summary = models.TextField(_("review summary"), blank=True, max_length=5000)

    class Meta:
        verbose_name = _("review request")
        verbose_name_plural = _("review requests")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan"], condition=models.Q(status="open"), name="reviewrequest_one_open_per_plan"
            )
        ]

    def __str__(self) -> str:
        return f"{self.plan} → {self.facility} ({self.status})"


class DatasetLink(models.Model):
    """A registered dataset confirmed as (part of) one planned dataset of a plan.

    The living DMP compares the plan with what the linked datasets and their submissions hold.
    """

    plan = models.ForeignKey(
        Plan, on_delete=models.CASCADE, related_name="dataset_links", verbose_name=_("plan")
    )
    block_id = models.CharField(
        _("planned dataset"), max_length=20, help_text=_("The id of one of the plan's planned datasets.")
    )
    dataset = models.ForeignKey(
        "metadata.Dataset", on_delete=models.CASCADE, related_name="plan_links", verbose_name=_("dataset")
    )
    confirmed_by = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("dataset link")
        verbose_name_plural = _("dataset links")
        ordering = ["plan", "block_id", "pk"]
        constraints = [
            # Counted twice, a dataset's bytes would inflate two planned datasets' actual volume.
            models.UniqueConstraint(fields=["plan", "dataset"], name="datasetlink_one_block_per_dataset")
        ]

    def __str__(self) -> str:
        return f"{self.plan}: {self.dataset} → {self.block_id}"
