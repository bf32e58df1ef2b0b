from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from dmp.models import FacilityGuidance, Plan, Template
from dmp.template_files import iter_questions
from projects import access
from projects.models import Facility


def plan_for_user(
    user: access.AnyUser, pk: int | str, *, needs: str = access.VIEW
) -> tuple[Plan, access.ProjectAccess]:
    """A plan and the user's access to its project: 404 for strangers, 403 below ``needs``."""
    plan = Plan.objects.select_related("template", "project", "project__facility").filter(pk=pk).first()
    if plan is None:
        raise Http404("No such plan.")
    return plan, access.project_for_user(user, plan.project_id, needs=needs)


def current_templates() -> list[Template]:
    """The newest version of each template."""
    newest: dict[str, Template] = {}
    for template in Template.objects.order_by("key", "-loaded_at"):
        current = newest.get(template.key)
        if current is None or _version_key(template.version) > _version_key(current.version):
            newest[template.key] = template
    return sorted(newest.values(), key=lambda t: t.title)


def _version_key(version: str) -> tuple[Any, ...]:
    return tuple(int(part) if part.isdigit() else part for part in version.replace("-", ".").split("."))


def question_count(template: Template) -> int:
    return sum(1 for _ in iter_questions(template.content))


@dataclass(frozen=True)
class QuestionView:
    question: dict[str, Any]
    block: str | None
    facility_guidance: list[tuple[Facility, str]]

    @property
    def type_label(self) -> str:
        return str(self.question["type"]).replace("_", " ").capitalize()

    @property
    def condition_text(self) -> str:
        """When the question is asked, in words: "asked when he.x is yes"."""
        condition = self.question.get("condition")
        if not condition:
            return ""
        if "equals" in condition:
            expected = condition["equals"]
            wanted = (
                {True: "yes", False: "no"}.get(expected, str(expected))
                if isinstance(expected, bool)
                else expected
            )
        elif "in" in condition:
            wanted = " or ".join(str(value) for value in condition["in"])
        else:
            wanted = "answered"
        return f"asked when {condition['question']} is {wanted}"


@dataclass(frozen=True)
class SectionView:
    section: dict[str, Any]
    depth: int
    block: str | None
    questions: list[QuestionView]


def template_outline(template: Template, facilities: QuerySet[Facility]) -> list[SectionView]:
    """The template's sections in order, each question with the guidance of these facilities."""
    guidance: dict[str, list[tuple[Facility, str]]] = {}
    for item in FacilityGuidance.objects.filter(
        template_key=template.key, facility__in=facilities
    ).select_related("facility"):
        guidance.setdefault(item.question_key, []).append((item.facility, item.text))
    outline: list[SectionView] = []

    def walk(sections: list[dict[str, Any]], depth: int, block: str | None) -> None:
        for section in sections:
            inner_block = section.get("repeat") or block
            questions = [
                QuestionView(question, inner_block, guidance.get(question["key"], []))
                for question in section.get("questions", [])
            ]
            outline.append(SectionView(section, depth, inner_block, questions))
            walk(section.get("sections", []), depth + 1, inner_block)

    walk(template.sections, 0, None)
    return outline
