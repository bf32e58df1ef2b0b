"""The wizard runs a constant number of queries whatever the number of questions, planned
datasets, answers and comments on the page (no query per card)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dmp.answers import answer_save, blocks_change, plan_create, questions_by_key
from dmp.demo import example_answer
from dmp.models import Plan, Template
from dmp.review import comment_add
from dmp.services import templates_load
from tests.conftest import World


def _fill(plan: Plan, world: World) -> None:
    owner = world.users["owner"]
    for key, (question, block) in questions_by_key(plan.template).items():
        for block_id in [b["id"] for b in plan.blocks] if block else [""]:
            if plan.answers.filter(question_key=key, block_id=block_id).exists():
                continue
            try:
                answer_save(
                    plan=plan,
                    user=owner,
                    question_key=key,
                    block_id=block_id,
                    raw=example_answer(question),
                    version=0,
                )
            except ValidationError:  # prose examples of typed questions stay unanswered
                continue
            comment_add(
                plan=plan, user=world.users["reviewer"], question_key=key, block_id=block_id, text="Why?"
            )


def _queries(world: World, plan: Plan, section: str) -> int:
    client = world.client("editor")
    client.get(f"/plans/{plan.pk}/s/{section}/")  # warm the session and the template cache
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/plans/{plan.pk}/s/{section}/")
    assert response.status_code == 200
    return len(captured)


def test_wizard_queries_do_not_grow_with_datasets_answers_or_comments(world: World) -> None:
    templates_load()
    template = Template.objects.get(key="bioimaging-facility")
    plan = plan_create(project=world.project, template=template, title="Q", user=world.users["owner"])
    empty = {section: _queries(world, plan, section) for section in ("design", "acquisition", "datasets")}
    for number in range(2, 7):
        blocks_change(plan=plan, action="add", title=f"Dataset {number}")
    _fill(plan, world)
    full = {section: _queries(world, plan, section) for section in ("design", "acquisition", "datasets")}
    assert full == empty
