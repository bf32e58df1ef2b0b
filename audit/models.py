"""The audit log: who changed what in a project, when, from which value to which."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    ANSWER_CHANGED = "answer.changed", _("Answer changed")
    ANSWERS_CREATED = "answers.created", _("First answers written at once")
    PLANNED_DATASET_ADDED = "plan.dataset_added", _("Planned dataset added")
    PLANNED_DATASET_RENAMED = "plan.dataset_renamed", _("Planned dataset renamed")
    PLANNED_DATASET_REMOVED = "plan.dataset_removed", _("Planned dataset removed with its answers")
    PLAN_RESTORED = "plan.restored", _("Plan restored from a snapshot")
    PLAN_UPGRADED = "plan.upgraded", _("Plan moved to a new template version")
    EMBARGO_CHANGED = "embargo.changed", _("Release date changed")
    SUBMISSION_STATE = "submission.state", _("Submission state changed")
    MEMBERSHIP_ADDED = "membership.added", _("Member added")
    MEMBERSHIP_ROLE_CHANGED = "membership.role_changed", _("Member's role changed")
    MEMBERSHIP_REMOVED = "membership.removed", _("Member removed")
    INVITATION_SENT = "invitation.sent", _("Invitation sent")
    INVITATION_WITHDRAWN = "invitation.withdrawn", _("Invitation withdrawn")
    INVITATION_ACCEPTED = "invitation.accepted", _("Invitation accepted")


def shown(value: Any) -> str:
    """A stored value as a person reads it: text as it is, anything else as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)  # PostgreSQL does not keep key order


class AuditEvent(models.Model):
    """One change to a project, written by the service that made it, in the same transaction.

    Rows are only ever added: the log must still say what happened after the object, the
    account or even the project is gone.
    """

    at = models.DateTimeField(_("at"), default=timezone.now, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
        help_text=_("Empty for changes made by the system (tasks, commands) or by a deleted account."),
    )
    actor_name = models.CharField(
        _("who (name)"),
        max_length=200,
        blank=True,
        help_text=_("The person's name when the change was made, kept if the account is deleted."),
    )
    # A plain number, not a foreign key: audit sits below projects (layer 0, see ARCHITECTURE.md),
    # so every app may write to it, and an audit trail must outlive what it describes.
    project_id = models.BigIntegerField(_("project id"))
    action = models.CharField(_("action"), max_length=40, choices=Action.choices)
    object_type = models.CharField(
        _("object type"), max_length=40, help_text=_("answer, plan, submission, membership or invitation.")
    )
    object_id = models.BigIntegerField(_("object id"), null=True, blank=True)
    object_label = models.CharField(
        _("object"), max_length=300, blank=True, help_text=_("What changed, as it was named then.")
    )
    old = models.JSONField(_("before"), null=True, blank=True)
    new = models.JSONField(_("after"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True, help_text=_("The reason given, or what else happened."))

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        # Newest first by id, the order rows were written; `at` can tie within a transaction.
        ordering = ["-id"]
        # Each listing (everything, one action, one person) is one range read of its index,
        # however long the project's log grows.
        indexes = [
            models.Index(fields=["project_id", "-id"], name="audit_project_newest"),
            models.Index(fields=["project_id", "action", "-id"], name="audit_project_action"),
            models.Index(fields=["project_id", "actor", "-id"], name="audit_project_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or 'system'}: {self.action} {self.object_label}"

    @property
    def old_shown(self) -> str:
        return shown(self.old)

    @property
    def new_shown(self) -> str:
        return shown(self.new)
