"""The demo plan: the bioimaging facility template filled in with each question's example answer."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from accounts.models import User
from dmp.answers import answers_create, clean_value, plan_create
from dmp.models import Plan, Template
from dmp.template_files import iter_questions
from projects.models import Project

DEMO_TEMPLATE = "bioimaging-facility"


def example_answer(question: dict[str, Any]) -> Any:
    """A question's example as a raw answer: typed questions take a value they accept."""
    example = question.get("example")
    if question["type"] == "yes_no":
        return "yes" if str(example or "").lower().startswith("yes") else "no"
    if question["type"] in ("single_choice", "multiple_choice"):
        return question["choices"][0]["value"]
    return example


def demo_plan_ensure(*, project: Project, user: User) -> Plan | None:
    """Create the demo plan once; None when the template is not loaded."""
    existing = Plan.objects.filter(project=project, template__key=DEMO_TEMPLATE).first()
    if existing is not None:
        return existing
    template = Template.objects.filter(key=DEMO_TEMPLATE).order_by("-loaded_at").first()
    if template is None:
        return None
    plan = plan_create(
        project=project, template=template, title=f"Data management plan of {project.acronym}", user=user
    )
    plan.blocks[0]["title"] = "Live imaging of mitochondrial transport"
    plan.save(update_fields=["blocks"])
    values: dict[tuple[str, str], Any] = {}
    for question, _, block in iter_questions(template.content):
        try:
            value = clean_value(question, example_answer(question))
        except ValidationError:
            continue  # an example written as prose for a typed question: left for the user
        if value is not None:
            values[(question["key"], plan.blocks[0]["id"] if block else "")] = value
    answers_create(plan=plan, user=user, values=values, source="from the demo plan's examples")
    return plan
