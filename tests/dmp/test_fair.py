"""The FAIR score: which questions count, conditions, planned datasets, and the pages showing it."""

from __future__ import annotations

import pytest

from dmp.answers import answer_save, blocks_change, plan_create
from dmp.fair import MADMP_PRINCIPLES, fair_score, question_principles
from dmp.models import Plan, Template
from dmp.services import templates_load
from dmp.template_files import iter_questions
from tests.conftest import ALL_USERS, World
from tests.dmp.test_madmp import demo_fill
from tests.projects.test_access_matrix import expected, outcome


def _plan(world: World, key: str) -> Plan:
    templates_load()
    template = Template.objects.get(key=key)
    return plan_create(project=world.project, template=template, title="P", user=world.users["owner"])


def _scores(plan: Plan) -> dict[str, tuple[int, int]]:
    return {score.letter: (score.answered, score.asked) for score in fair_score(plan)}


def test_every_shipped_template_covers_all_four_principles(world: World) -> None:
    templates_load()
    for template in Template.objects.all():
        counted = {
            letter
            for question, section, _ in iter_questions(template.content)
            for letter in question_principles(question, section)
        }
        assert counted == set("FAIR"), template.key


def test_section_tag_then_madmp_field_decide(world: World) -> None:
    plan = _plan(world, "horizon-europe")
    findable = {q["key"]: (q, s) for q, s, _ in iter_questions(plan.template.content)}
    assert question_principles(*findable["he.findable.pid"]) == "F"  # section 2.1 is tagged F
    question, section = findable["he.dataset.expected_size"]
    assert question_principles(question, section) == MADMP_PRINCIPLES.get(
        "dataset.distribution.byte_size", ""
    )


def test_answers_raise_the_score_and_hidden_questions_do_not_count(world: World) -> None:
    plan = _plan(world, "bioimaging-facility")
    owner = world.users["owner"]
    block = plan.blocks[0]["id"]
    before = _scores(plan)
    assert all(answered == 0 for answered, _ in before.values())
    # The embargo date is asked only once the dataset is under embargo.
    answer_save(
        plan=plan, user=owner, question_key="bif.dataset.embargo", block_id=block, raw="yes", version=0
    )
    asked_with_embargo = _scores(plan)["A"][1]
    assert asked_with_embargo == before["A"][1] + 1
    answer_save(
        plan=plan,
        user=owner,
        question_key="bif.dataset.embargo_end",
        block_id=block,
        raw="2027-06-30",
        version=0,
    )
    assert _scores(plan)["A"][0] == 1
    answer_save(
        plan=plan, user=owner, question_key="bif.dataset.title", block_id=block, raw="Time-lapse", version=0
    )
    assert _scores(plan)["F"][0] == 1


def test_planned_dataset_questions_count_once_per_dataset(world: World) -> None:
    plan = _plan(world, "bioimaging-facility")
    one = _scores(plan)
    blocks_change(plan=plan, action="add", title="Second dataset")
    two = _scores(plan)
    per_dataset_f = sum(
        "F" in question_principles(q, s) and not q.get("condition")
        for q, s, block in iter_questions(plan.template.content)
        if block
    )
    assert two["F"][1] == one["F"][1] + per_dataset_f


def test_filled_plan_scores_high(world: World) -> None:
    plan = _plan(world, "horizon-europe")
    demo_fill(plan)
    scores = {score.letter: score for score in fair_score(plan)}
    assert all(score.percent >= 80 for score in scores.values()), {k: s.percent for k, s in scores.items()}


def test_fair_page_links_to_unanswered_questions(world: World) -> None:
    plan = _plan(world, "horizon-europe")
    page = world.client("viewer").get(f"/plans/{plan.pk}/fair/").content.decode()
    assert "How the score is counted" in page
    assert f'href="/plans/{plan.pk}/s/fair-data/#card-he-findable-pid"' in page
    sidebar = world.client("viewer").get(f"/plans/{plan.pk}/", follow=True).content.decode()
    assert 'aria-label="Findable: 0%"' in sidebar


@pytest.mark.parametrize("who", ALL_USERS)
def test_access(world: World, who: str) -> None:
    plan = _plan(world, "nih-dmsp")
    assert outcome(world.client(who).get(f"/plans/{plan.pk}/fair/")) == expected(who, "viewer", success=200)
