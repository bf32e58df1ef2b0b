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
