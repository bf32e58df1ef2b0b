"""Plans and answers: per-type validation, conditions, progress and concurrent edits."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from dmp.answers import (
    AnswerConflict,
    answer_save,
    clean_value,
    is_visible,
    plan_create,
    plan_progress,
    questions_by_key,
)
from dmp.models import Answer, Plan, Template
from dmp.services import templates_load
from tests.conftest import World


@pytest.fixture
def plan(world: World) -> Plan:
    templates_load()
    template = Template.objects.get(key="horizon-europe")
    return plan_create(project=world.project, template=template, title="DMP", user=world.users["editor"])


def _question(plan: Plan, kind: str) -> dict[str, Any]:
    return next(q for q, block in questions_by_key(plan.template).values() if q["type"] == kind and not block)


@pytest.mark.parametrize(
    ("question", "raw", "message"),
    [
        ({"type": "date"}, "30/06/2027", "is not a date; use the form 2027-06-30"),
        ({"type": "number", "min": 0}, "-3", "at least 0"),
        ({"type": "number"}, "lots", "is not a number"),
        ({"type": "yes_no"}, "perhaps", "Answer yes or no"),
        (
            {
                "type": "single_choice",
                "choices": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
            },
            "c",
            "not one of",
        ),
        ({"type": "person"}, "Ada Lovelace (0000-0002-1825-0098)", "wrong check digit"),
    ],
)
def test_each_type_explains_bad_values(question: dict[str, Any], raw: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        clean_value(question, raw)


def test_good_values_are_normalised() -> None:
    assert clean_value({"type": "date"}, " 2027-06-30 ") == "2027-06-30"
    assert clean_value({"type": "number"}, "1,5") == 1.5
    assert clean_value({"type": "yes_no"}, "yes") is True
    assert clean_value({"type": "text"}, "") is None


def test_concurrent_saves_one_wins_the_other_gets_both_values(world: World, plan: Plan) -> None:
    """Must show: two clients save the same answer from the same version; nothing is lost."""
    question = _question(plan, "long_text")
    first = answer_save(
        plan=plan,
        user=world.users["editor"],
        question_key=question["key"],
        block_id="",
        raw="Ours",
        version=0,
    )
    answer_save(
        plan=plan,
        user=world.users["manager"],
        question_key=question["key"],
        block_id="",
        raw="Manager's",
        version=first.version,
    )
    with pytest.raises(AnswerConflict) as conflict:
        answer_save(
            plan=plan,
            user=world.users["editor"],
            question_key=question["key"],
            block_id="",
            raw="Editor's",
            version=first.version,
        )
    assert conflict.value.current.value == "Manager's"
    assert conflict.value.yours == "Editor's"
    assert Answer.objects.get(plan=plan, question_key=question["key"]).value == "Manager's"


def test_two_first_saves_conflict_too(world: World, plan: Plan) -> None:
    question = _question(plan, "long_text")
    answer_save(
        plan=plan, user=world.users["editor"], question_key=question["key"], block_id="", raw="A", version=0
    )
    with pytest.raises(AnswerConflict):
        answer_save(
            plan=plan,
            user=world.users["owner"],
            question_key=question["key"],
            block_id="",
            raw="B",
            version=0,
        )


@pytest.mark.parametrize("who", ["reviewer", "viewer", "steward"])
def test_reviewers_and_viewers_cannot_answer(world: World, plan: Plan, who: str) -> None:
    question = _question(plan, "long_text")
    with pytest.raises(PermissionDenied):
        answer_save(
            plan=plan, user=world.users[who], question_key=question["key"], block_id="", raw="x", version=0
        )
    assert not Answer.objects.exists()


def test_conditions_and_progress(world: World, plan: Plan) -> None:
    conditional = next(
        q
        for q, block in __import__("dmp.answers", fromlist=["x"]).questions_by_key(plan.template).values()
        if q.get("condition") and "equals" in q["condition"] and not block
    )
    gate = conditional["condition"]["question"]
    assert not is_visible(conditional, {}, "")
    assert is_visible(conditional, {(gate, ""): conditional["condition"]["equals"]}, "")
    before = plan_progress(plan)
    assert before.answered == 0
    assert before.required > 20
    answer_save(
        plan=plan,
        user=world.users["editor"],
        question_key=gate,
        block_id="",
        raw="yes" if conditional["condition"]["equals"] is True else "no",
        version=0,
    )
    after = plan_progress(plan)
    assert after.answered == 1
    assert after.required >= before.required


def test_block_questions_need_an_existing_block(world: World, plan: Plan) -> None:
    key = next(
        k for k, (q, block) in questions_by_key(plan.template).items() if block and q["type"] == "text"
    )
    with pytest.raises(ValidationError, match="no longer exists"):
        answer_save(
            plan=plan, user=world.users["editor"], question_key=key, block_id="nope", raw="x", version=0
        )
    saved = answer_save(
        plan=plan,
        user=world.users["editor"],
        question_key=key,
        block_id=plan.blocks[0]["id"],
        raw="Confocal time-lapses",
        version=0,
    )
    assert saved.block_id == plan.blocks[0]["id"]
