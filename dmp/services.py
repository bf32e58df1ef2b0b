"""Loading DMP templates and keeping facility guidance."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from dmp.models import FacilityGuidance, Template
from dmp.template_files import TemplateFile, iter_questions, shipped_templates
from projects.models import Facility


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


@transaction.atomic
def templates_load(files: list[TemplateFile] | None = None) -> LoadReport:
    """Store every shipped template version; idempotent.

    A file whose content changed without a new version updates that version in place (a fix
    of wording); a new version number makes a new row and leaves older plans on theirs.
    """
    report = LoadReport()
    for template_file in shipped_templates() if files is None else files:
        label = f"{template_file.key} {template_file.version}"
        content = template_file.content
        existing = Template.objects.filter(key=template_file.key, version=template_file.version).first()
        if existing is not None and existing.sha256 == template_file.sha256:
            report.unchanged.append(label)
            continue
        template = existing or Template(key=template_file.key, version=template_file.version)
        template.title = content["title"]
        template.funder = content["funder"]
        template.source = content["source"]
        template.content = content
        template.sha256 = template_file.sha256
        template.full_clean()
        template.save()
        (report.updated if existing else report.created).append(label)
    return report


def guidance_set(
    *, facility: Facility, template: Template, question_key: str, text: str
) -> FacilityGuidance | None:
    """Set (or, with empty text, remove) the facility's guidance for one question."""
    if question_key not in {question["key"] for question, _, _ in iter_questions(template.content)}:
        raise ValidationError(f"{template} has no question {question_key!r}.")
    if not text.strip():
        FacilityGuidance.objects.filter(
            facility=facility, template_key=template.key, question_key=question_key
        ).delete()
        return None
    guidance, _ = FacilityGuidance.objects.update_or_create(
        facility=facility,
        template_key=template.key,
        question_key=question_key,
        defaults={"text": text.strip()},
    )
    return guidance
