"""The plan wizard in the browser's terms: pages, autosave over htmx, conflicts, roles, blocks."""

from __future__ import annotations

from typing import Any

import pytest

from dmp.answers import questions_by_key
from dmp.models import Answer, Plan, Template
from dmp.services import templates_load
from tests.conftest import ALL_USERS, World
from tests.projects.test_access_matrix import outcome

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def plan(world: World) -> Plan:
    templates_load()
    template = Template.objects.get(key="horizon-europe")
    response = world.client("editor").post(
        f"/plans/project/{world.project.pk}/new/", {"template": template.pk, "title": "Our DMP"}
    )
    plan = Plan.objects.get(title="Our DMP")
    assert response["Location"] == f"/plans/{plan.pk}/"
    return plan


def _plan_question(plan: Plan, kind: str) -> dict[str, Any]:
    return next(q for q, block in questions_by_key(plan.template).values() if q["type"] == kind and not block)


def _save(client: Any, plan: Plan, key: str, value: Any, version: int, block: str = "") -> Any:
    return client.post(
        f"/plans/{plan.pk}/answer/",
        {"question": key, "block": block, "value": value, "version": version},
        **HTMX,
    )


def test_wizard_shows_every_section_and_progress(world: World, plan: Plan) -> None:
    page = world.client("viewer").get(f"/plans/{plan.pk}/", follow=True).content.decode()
    for title in (
        "Data summary",
        "FAIR data",
        "Other research outputs",
        "Allocation of resources",
        "Data security",
        "Ethics",
        "Other issues",
    ):
        assert title in page
    assert "0 of " in page
    assert "your role (Viewer) does not allow editing" in page


def test_autosave_returns_the_saved_card(world: World, plan: Plan) -> None:
    question = _plan_question(plan, "long_text")
    response = _save(world.client("editor"), plan, question["key"], "We image organoids.", 0)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Saved." in body
    assert 'name="version" value="1"' in body
    assert Answer.objects.get(question_key=question["key"]).value == "We image organoids."


def test_conflicting_autosave_shows_both_values(world: World, plan: Plan) -> None:
    """Must show (web): the second save from the same version gets a conflict carrying both values."""
    question = _plan_question(plan, "long_text")
    _save(world.client("editor"), plan, question["key"], "First version", 0)
    _save(world.client("manager"), plan, question["key"], "The manager's text", 1)
    response = _save(world.client("editor"), plan, question["key"], "The editor's text", 1)
    body = response.content.decode()
    assert response.status_code == 409
    assert "The manager&#x27;s text" in body
    assert "The editor&#x27;s text" in body
    assert Answer.objects.get(question_key=question["key"]).value == "The manager's text"


def test_invalid_answers_are_explained(world: World, plan: Plan) -> None:
    key = next(k for k, (q, block) in questions_by_key(plan.template).items() if q["type"] == "date")
    block = plan.blocks[0]["id"] if questions_by_key(plan.template)[key][1] else ""
    response = _save(world.client("editor"), plan, key, "next spring", 0, block)
    assert response.status_code == 400
    assert "is not a date; use the form 2027-06-30" in response.content.decode()


@pytest.mark.parametrize("who", ALL_USERS)
def test_only_editors_and_up_can_answer(world: World, plan: Plan, who: str) -> None:
    """Must show (web): a reviewer's attempt to change an answer is refused."""
    question = _plan_question(plan, "long_text")
    response = _save(world.client(who), plan, question["key"], "Changed", 0)
    expected = {"anonymous": "login", "outsider": 404, "viewer": 403, "reviewer": 403, "steward": 403}.get(
        who, 200
    )
    assert outcome(response) == expected
    assert Answer.objects.exists() == (expected == 200)


def test_answering_a_gate_question_reveals_its_follow_up(world: World, plan: Plan) -> None:
    follow_up = next(
        q
        for q, block in questions_by_key(plan.template).values()
        if not block and q.get("condition", {}).get("equals") is True
    )
    gate = follow_up["condition"]["question"]
    response = _save(world.client("editor"), plan, gate, "yes", 0)
    body = response.content.decode()
    assert 'hx-swap-oob="outerHTML:#card-' in body
    assert follow_up["text"][:30].replace("'", "&#x27;") in body


def test_planned_datasets_can_be_added_renamed_and_removed(world: World, plan: Plan) -> None:
    client = world.client("editor")
    section = "data-summary"
    client.post(f"/plans/{plan.pk}/blocks/", {"action": "add", "title": "Light-sheet", "section": section})
    plan.refresh_from_db()
    assert [b["title"] for b in plan.blocks] == ["Dataset 1", "Light-sheet"]
    second = plan.blocks[1]["id"]
    client.post(f"/plans/{plan.pk}/blocks/", {"action": "up", "block": second, "section": section})
    client.post(
        f"/plans/{plan.pk}/blocks/",
        {"action": "rename", "block": second, "title": "SPIM", "section": section},
    )
    plan.refresh_from_db()
    assert [b["title"] for b in plan.blocks] == ["SPIM", "Dataset 1"]
    key = next(
        k for k, (q, block) in questions_by_key(plan.template).items() if block and q["type"] == "text"
    )
    _save(client, plan, key, "SPIM of organoids", 0, second)
    client.post(f"/plans/{plan.pk}/blocks/", {"action": "remove", "block": second, "section": section})
    plan.refresh_from_db()
    assert [b["title"] for b in plan.blocks] == ["Dataset 1"]
    assert not Answer.objects.filter(block_id=second).exists()
    refused = client.post(
        f"/plans/{plan.pk}/blocks/",
        {"action": "remove", "block": plan.blocks[0]["id"], "section": section},
        follow=True,
    )
    assert "keeps at least one planned dataset" in refused.content.decode()


def test_autosave_also_updates_the_progress(world: World, plan: Plan) -> None:
    question = _plan_question(plan, "long_text")
    body = _save(world.client("editor"), plan, question["key"], "Text", 0).content.decode()
    assert '<p id="plan-progress" hx-swap-oob="true">' in body
    assert "1 of " in body


@pytest.mark.parametrize("who", ALL_USERS)
def test_answers_api_roles_and_conflicts(world: World, plan: Plan, who: str) -> None:
    """Must show (API): reviewers cannot change answers; stale versions get 409 with both values."""
    question = _plan_question(plan, "long_text")
    api = world.api(who)
    url = f"/api/v1/plans/{plan.pk}/answers/"
    response = api.post(
        url, {"question_key": question["key"], "value": "From the API", "version": 0}, format="json"
    )
    expected = {"anonymous": 401, "outsider": 404, "viewer": 403, "reviewer": 403, "steward": 403}.get(
        who, 200
    )
    assert response.status_code == expected
    if expected != 200:
        return
    assert response.json()["version"] == 1
    stale = api.post(url, {"question_key": question["key"], "value": "Again", "version": 0}, format="json")
    assert stale.status_code == 409
    assert stale.json()["current"]["value"] == "From the API"
    assert stale.json()["yours"] == "Again"
    bad = api.post(url, {"question_key": "he.nope", "value": "x", "version": 0}, format="json")
    assert bad.status_code == 400
    assert [a["question_key"] for a in api.get(url).json()] == [question["key"]]
